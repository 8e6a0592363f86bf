# frozen_string_literal: true

module Karafka
  module Setup
    # `config.active_job.*`: karafka-rs' opt-in job features (none of them is Karafka's; each
    # costs nothing while unset). See the README sections "Cancelling jobs", "Deadlines" and
    # "Traces".
    class ActiveJobConfig
      # @return [String, nil] the compacted topic of cancelled job ids; nil (the default):
      #   cancelling is off, `Karafka::ActiveJob.cancel` raises and servers read nothing
      attr_accessor :cancels_topic
      # @return [Integer] ms at most between two checks of the cancels topic's end by a server
      attr_accessor :cancels_interval
      # @return [Hash{String => String}] topic settings `karafka topics migrate` creates the
      #   cancels topic with
      attr_accessor :cancels_topic_settings
      # @return [Numeric, ActiveSupport::Duration, nil] seconds a job may run before it is
      #   reported overdue, for job classes without `karafka_options(deadline:)`; nil: none
      attr_accessor :deadline
      # @return [Symbol] what happens to a job that ran past its deadline, for job classes
      #   without `karafka_options(on_overdue:)`: `:report` (the default: reported only) or
      #   `:dead_letter` (if it then raises: dead-lettered at once, without its retries left)
      attr_accessor :on_overdue
      # @return [Boolean] carry W3C trace context (traceparent / tracestate) from enqueue to perform
      attr_accessor :traces

      def initialize
        @cancels_topic = nil
        @cancels_interval = 1_000
        # One record per cancelled job id (compaction keeps the latest); a week of them.
        @cancels_topic_settings = { 'cleanup.policy' => 'compact,delete', 'retention.ms' => '604800000' }
        @deadline = nil
        @on_overdue = :report
        @traces = false
      end

      # @return [Array<String>] what is wrong, each naming its setting
      def errors
        errors = []
        topic = @cancels_topic
        errors << 'active_job.cancels_topic must be a non-empty String or nil' unless topic.nil? || (topic.is_a?(String) && !topic.empty?)
        errors << 'active_job.cancels_interval must be a positive Integer (ms)' unless @cancels_interval.is_a?(Integer) && @cancels_interval.positive?
        errors << 'active_job.deadline must be a positive number of seconds or nil' unless @deadline.nil? || Deadline.valid?(@deadline)
        unless ActiveJob::OnOverdue::VALUES.include?(@on_overdue)
          errors << "active_job.on_overdue must be one of: #{ActiveJob::OnOverdue::VALUES.map(&:inspect).join(', ')} " \
                    "(got #{@on_overdue.inspect})"
        end
        errors << 'active_job.traces must be true or false' unless [true, false].include?(@traces)
        errors
      end

      # Deadlines as `karafka_options(deadline:)` and `config.active_job.deadline` take them.
      module Deadline
        module_function

        # @return [Boolean] a positive number of seconds (an ActiveSupport::Duration is one)
        def valid?(value)
          value.respond_to?(:to_f) && !value.is_a?(String) && value.to_f.positive? && value.to_f.finite?
        end
      end
    end
  end
end
