# frozen_string_literal: true

require_relative '../contracts/messages'

module Karafka
  module Setup
    # Validates a {Config} at the end of `setup`, naming the setting that is wrong.
    class Contract
      NAME_FORMAT = /\A[a-zA-Z0-9._-]+\z/

      # @param config [Config]
      # @raise [Errors::InvalidConfigurationError]
      def validate!(config)
        errors = []
        check = ->(ok, key, rule) { errors << "#{key} #{Contracts.message(:setup, rule)}" unless ok }
        check.call(kafka_valid?(config.kafka), 'kafka', :kafka_format)
        check.call(name?(config.client_id), 'client_id', :client_id_format)
        check.call(name?(config.group_id), 'group_id', :group_id_format)
        %i[concurrency max_messages max_wait_time shutdown_timeout].each do |key|
          check.call(positive?(config.public_send(key)), key, :positive_integer)
        end
        validate_pause(config.pause, check)
        validate_admin(config.admin, check)
        validate_extensions(config, check)
        errors.concat(config.active_job.errors)
        if positive?(config.shutdown_timeout) && positive?(config.max_wait_time)
          check.call(config.shutdown_timeout > config.max_wait_time, 'shutdown_timeout',
                     :shutdown_timeout_vs_max_wait_time)
        end
        return if errors.empty?

        raise Errors::InvalidConfigurationError, "Invalid Karafka setup: #{errors.join('; ')}"
      end

      private

      PRODUCER_METHODS = %i[produce_sync produce_async produce_many_sync produce_many_async].freeze

      # The settings beyond Karafka's basic ones: each is honoured or rejected here, at boot.
      def validate_extensions(config, check)
        check.call(%w[earliest latest].include?(config.initial_offset.to_s), 'initial_offset', :initial_offset)
        check.call(config.worker_thread_priority.nil? || config.worker_thread_priority.is_a?(Integer), 'worker_thread_priority', :integer)
        check.call(positive?(config.swarm.nodes), 'swarm.nodes', :positive_integer)
        producer = config.producer
        check.call(producer.nil? || PRODUCER_METHODS.all? { |m| producer.respond_to?(m) }, 'producer', :producer)
        check.call(config.monitor.nil? || config.monitor.is_a?(Instrumentation::Monitor), 'monitor', :monitor)
        check.call([false, nil].include?(config.oauth.token_provider_listener), 'oauth.token_provider_listener',
                   :oauth_listener)
        deserializer = config.internal.active_job.deserializer
        check.call(deserializer.respond_to?(:serialize) && deserializer.respond_to?(:deserialize),
                   'internal.active_job.deserializer', :deserializer)
      end

      # As Karafka's admin contract: times in ms, all positive, and a Hash of extra settings.
      def validate_admin(admin, check)
        %i[max_wait_time max_retries_duration retry_backoff poll_timeout].each do |key|
          check.call(positive?(admin.public_send(key)), "admin.#{key}", :positive_integer)
        end
        check.call(admin.kafka.is_a?(Hash), 'admin.kafka', :hash)
        check.call(name?(admin.group_id), 'admin.group_id', :group_id_format)
      end

      def validate_pause(pause, check)
        check.call(positive?(pause.timeout), 'pause.timeout', :positive_integer)
        check.call(positive?(pause.max_timeout), 'pause.max_timeout', :positive_integer)
        check.call([true, false].include?(pause.with_exponential_backoff),
                   'pause.with_exponential_backoff', :boolean)
        return unless positive?(pause.timeout) && positive?(pause.max_timeout)

        check.call(pause.max_timeout >= pause.timeout, 'pause.max_timeout', :pause_max_timeout_vs_timeout)
      end

      def kafka_valid?(kafka)
        kafka.is_a?(Hash) && kafka.any? { |key, value| key.to_s == 'bootstrap.servers' && !value.to_s.empty? }
      end

      def name?(value)
        value.is_a?(String) && NAME_FORMAT.match?(value)
      end

      def positive?(value)
        value.is_a?(Integer) && value.positive?
      end
    end
  end
end
