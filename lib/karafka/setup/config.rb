# frozen_string_literal: true

require_relative 'pause_config'
require_relative 'nested_configs'
require_relative 'swarm_config'
require_relative 'active_job_config'
require_relative 'recurring_tasks_config'

module Karafka
  module Setup
    # Settings given in `Karafka::App.setup { |config| ... }`. Names and defaults follow
    # Karafka's; see the README for the ones accepted for compatibility without effect.
    class Config
      # @return [Hash] librdkafka settings (`'bootstrap.servers'` at least)
      attr_accessor :kafka
      # @return [String] Kafka `client.id`
      attr_accessor :client_id
      # @return [String] consumer group of the routed topics
      attr_accessor :group_id
      # @return [Integer] worker threads running jobs
      attr_accessor :concurrency
      # @return [Integer] batch size: the engine buffers up to ten batches per partition
      attr_accessor :max_messages
      # @return [Integer] longest idle poll, in milliseconds
      attr_accessor :max_wait_time
      # @return [Integer] how long a shutdown may wait for running jobs, in milliseconds
      attr_accessor :shutdown_timeout
      # @return [Logger]
      attr_reader :logger
      # @return [PauseConfig]
      attr_reader :pause
      # @return [String] 'earliest' or 'latest': librdkafka's `auto.offset.reset` for partitions
      #   without a committed offset, unless `config.kafka` sets it
      attr_accessor :initial_offset
      # @return [Producer, #produce_many_sync, nil] the producer of `Karafka.producer` (built
      #   from `kafka` when nil)
      attr_accessor :producer
      # @param value [Instrumentation::Monitor] the monitor of `Karafka.monitor`
      attr_writer :monitor

      # The monitor set, else the process' default one: as in Karafka, there always is one, so
      # `config.monitor.subscribe('app.initialized') { ... }` inside `setup` works (its docs).
      # @return [Instrumentation::Monitor]
      def monitor
        @monitor || Karafka.default_monitor
      end
      # @return [Integer, nil] Ruby thread priority of the worker threads; nil (the default)
      #   leaves Ruby's (Karafka lowers it to -1; measured here only as set by the app)
      attr_accessor :worker_thread_priority
      # @return [SwarmConfig] `karafka swarm`'s nodes
      attr_reader :swarm
      # @return [OauthConfig]
      attr_reader :oauth
      # @return [LicenseConfig]
      attr_reader :license
      # @return [AdminConfig]
      attr_reader :admin
      # @return [InternalConfig] `internal.active_job.deserializer`, `internal.swarm.*`
      attr_reader :internal
      # @return [ActiveJobConfig] karafka-rs' opt-in job features (cancels, deadlines, traces)
      attr_reader :active_job
      # @return [RecurringTasksConfig] `recurring_tasks.*` (used once routes declare recurring_tasks)
      attr_reader :recurring_tasks

      # Karafka settings that are accepted and have nothing to change here (documented in the
      # README): jobs have no consumer instances to persist.
      COMPATIBILITY_ONLY = %i[consumer_persistence].freeze

      COMPATIBILITY_ONLY.each { |name| attr_accessor name }

      # @return [Boolean] whether routes.draw requires a declarative definition of every topic
      #   and dead letter topic (Routing::Contract), as Karafka's does
      attr_accessor :strict_declarative_topics

      # @return [Boolean] whether routes.draw refuses topic names that mix "." and "_" (Kafka's
      #   metric names cannot tell them apart), as Karafka's does; true by default, as there
      attr_accessor :strict_topics_namespacing

      # Every setting `setup` accepts (for the error naming an unknown one).
      SETTINGS = %i[
        kafka client_id group_id concurrency max_messages max_wait_time shutdown_timeout logger pause
        pause_timeout pause_max_timeout pause_with_exponential_backoff initial_offset producer monitor
        worker_thread_priority swarm oauth license admin internal active_job recurring_tasks
        strict_declarative_topics strict_topics_namespacing
      ].concat(COMPATIBILITY_ONLY).freeze

      def initialize
        @kafka = {}
        @client_id = 'karafka'
        @group_id = 'app'
        @concurrency = 5
        @max_messages = 100
        @max_wait_time = 1_000
        @shutdown_timeout = 60_000
        @pause = PauseConfig.new
        @logger = nil
        @initial_offset = 'earliest'
        @producer = nil
        @monitor = nil
        @worker_thread_priority = nil
        @consumer_persistence = true
        @strict_topics_namespacing = true
        @strict_declarative_topics = false
        @strict_topics_namespacing = true
        @swarm = SwarmConfig.new
        @oauth = OauthConfig.new
        @license = LicenseConfig.new
        @admin = AdminConfig.new
        @internal = InternalConfig.new
        @active_job = ActiveJobConfig.new
        @recurring_tasks = RecurringTasksConfig.new
      end

      # A setting Karafka 2.5 does not have either, or that karafka-rs does not know: an
      # error naming it instead of a NoMethodError.
      def method_missing(name, *args)
        return super if name.to_s.end_with?('?', '!') || name.to_s.start_with?('to_')

        raise Errors::InvalidConfigurationError,
              "config.#{name.to_s.delete_suffix('=')} is not a karafka-rs setting; known settings: #{SETTINGS.join(', ')}"
      end

      def respond_to_missing?(_name, _include_private = false)
        false
      end

      # The executor asks the logger listener's logger per job whether it logs at INFO, and
      # keeps which logger that is until this changes (ActiveJob::PathEpoch).
      # @param value [Logger]
      def logger=(value)
        @logger = value
        ActiveJob::PathEpoch.bump!
      end

      # Karafka's flat pause settings (older karafka.rb files use these).
      # @param value [Integer]
      def pause_timeout=(value)
        pause.timeout = value
      end

      # @param value [Integer]
      def pause_max_timeout=(value)
        pause.max_timeout = value
      end

      # @param value [Boolean]
      def pause_with_exponential_backoff=(value)
        pause.with_exponential_backoff = value
      end

      # @return [Integer] `pause.timeout`
      def pause_timeout
        pause.timeout
      end

      # @return [Integer] `pause.max_timeout`
      def pause_max_timeout
        pause.max_timeout
      end

      # @return [Boolean] `pause.with_exponential_backoff`
      def pause_with_exponential_backoff
        pause.with_exponential_backoff
      end

      # @return [String] the Kafka group the server consumes with (`group.id` in `kafka` wins,
      #   as it does for the engine): the `consumer_group_id` of Karafka's event payloads
      def consumer_group_id
        (kafka[:'group.id'] || kafka['group.id'] || group_id).to_s
      end

      # @return [Array<Array(String, String)>] `kafka` as string pairs for the native side
      def kafka_pairs
        kafka.map { |key, value| [key.to_s, value.to_s] }
      end
    end
  end
end
