# frozen_string_literal: true

require_relative '../contracts/messages'

module Karafka
  module ActiveJob
    # Validates `karafka_options` when a job class sets them, naming the class and the key. An
    # unknown key is logged as a warning, not raised: Karafka ignores keys it does not know
    # (its own scenarios pass some), so a job class written for Karafka still loads.
    class JobOptionsContract
      ALLOWED = {
        dispatch_method: %i[produce_async produce_sync],
        dispatch_many_method: %i[produce_many_async produce_many_sync],
        partition_key_type: %i[key partition_key partition],
        on_overdue: OnOverdue::VALUES
      }.freeze
      CALLABLE = %i[partitioner producer].freeze
      KEYS = (ALLOWED.keys + CALLABLE + %i[scheduled_messages_topic deadline]).freeze

      # @param job_class [Class]
      # @param options [Hash]
      # @raise [Errors::InvalidConfigurationError]
      def validate!(job_class, options)
        name = job_class.name || job_class
        unknown = options.keys - KEYS
        unless unknown.empty?
          Karafka.logger.warn("#{name} karafka_options: #{unknown.map(&:inspect).join(', ')} " \
                              "#{Contracts.message(:job_options, :unknown_key, allowed: KEYS.join(', '))}")
        end
        errors = options.flat_map { |key, value| key_errors(key, value) }
        return if errors.empty?

        raise Errors::InvalidConfigurationError, "#{name} karafka_options: #{errors.join('; ')}"
      end

      private

      def key_errors(key, value)
        if ALLOWED.key?(key) && !ALLOWED[key].include?(value)
          ["#{key} #{value.inspect} #{Contracts.message(:job_options, key, allowed: ALLOWED[key].join(', '))}"]
        elsif CALLABLE.include?(key) && !value.respond_to?(:call)
          ["#{key} #{Contracts.message(:job_options, :callable)}"]
        elsif key == :deadline && !Setup::ActiveJobConfig::Deadline.valid?(value)
          ["deadline #{value.inspect} must be a positive number of seconds (e.g. 30.seconds)"]
        elsif key == :scheduled_messages_topic && !((value.is_a?(String) || value.is_a?(Symbol)) && !value.empty?)
          ["#{key} #{Contracts.message(:job_options, :scheduled_messages_topic)}"]
        else
          []
        end
      end
    end
  end
end
