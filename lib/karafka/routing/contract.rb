# frozen_string_literal: true

require_relative '../contracts/messages'

module Karafka
  module Routing
    # Validates drawn routes, naming the topic and the problem.
    class Contract
      TOPIC_NAME = /\A[a-zA-Z0-9._-]{1,249}\z/

      # @param topics [Array<Topic>]
      # @raise [Errors::InvalidConfigurationError]
      def validate!(topics)
        errors = topics.flat_map { |topic| topic_errors(topic) }
        topics.map(&:name).tally.each do |name, count|
          errors << "active_job_topic '#{name}' #{Contracts.message(:routing, :duplicated_topic)}" if count > 1
        end
        return if errors.empty?

        raise Errors::InvalidConfigurationError, "Invalid routing: #{errors.join('; ')}"
      end

      private

      def topic_errors(topic)
        errors = []
        unless TOPIC_NAME.match?(topic.name)
          errors << "active_job_topic '#{topic.name}' name #{Contracts.message(:routing, :topic_name_format)}"
        end
        partitions = topic.declaration[:partitions]
        unless partitions.is_a?(Integer) && partitions.positive?
          errors << "active_job_topic '#{topic.name}' config partitions #{Contracts.message(:routing, :partitions)}"
        end
        errors
      end
    end
  end
end
