# frozen_string_literal: true

require_relative 'pause_config'
require_relative 'swarm_config'

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
      attr_accessor :logger
      # @return [PauseConfig]
      attr_reader :pause
      # @return [SwarmConfig] `karafka swarm`'s nodes
      attr_reader :swarm
      # @return [InternalConfig] `internal.swarm` (supervision timeouts)
      attr_reader :internal

      # Karafka settings that are accepted so an existing karafka.rb keeps working, but have
      # no effect here (documented in the README).
      COMPATIBILITY_ONLY = %i[
        consumer_persistence strict_topics_namespacing strict_declarative_topics
        initial_offset
      ].freeze

      COMPATIBILITY_ONLY.each { |name| attr_accessor name }

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
        @swarm = SwarmConfig.new
        @internal = InternalConfig.new
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

      # @return [Array<Array(String, String)>] `kafka` as string pairs for the native side
      def kafka_pairs
        kafka.map { |key, value| [key.to_s, value.to_s] }
      end
    end
  end
end
