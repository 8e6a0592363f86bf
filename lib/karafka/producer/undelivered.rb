# frozen_string_literal: true

module Karafka
  class Producer
    # Async messages a producer could not deliver, reported where nobody can miss them: one
    # `error.occurred` per message (`type: 'librdkafka.dispatch_error'`, as for any async
    # failure) and one error log line with the count and which jobs they were.
    class Undelivered
      # Job ids named in the log line at most (the count is always exact).
      MAX_LISTED_IDS = 20

      # @return [Integer] messages not delivered (including those only counted: see `dropped`)
      attr_reader :count

      # @param failures [Array<Native::DeliveryFailure>]
      # @param dropped [Integer] failures that were counted but not kept (memory bound)
      # @param labels [Labels] where the failures' WaterDrop labels wait
      # @param producer_id [String] the producer's, for the events
      def initialize(failures, dropped, labels, producer_id)
        @failures = failures
        @labels = labels
        @producer_id = producer_id
        @count = failures.size + dropped
        @dropped = dropped
      end

      # @return [Boolean]
      def none?
        @count.zero?
      end

      # Publishes each failure and logs the summary.
      # @param monitor [Instrumentation::Monitor]
      # @param during [String] when it happened, for the log line (e.g. "at close")
      def report(monitor, during:)
        return if none?

        if monitor.listening?('error.occurred')
          @failures.each do |failure|
            monitor.instrument('error.occurred', Undelivered.event(failure, @labels.take(failure.label), @producer_id))
          end
        end
        Karafka.logger.error(summary(during))
      end

      # @return [String] the log line
      def summary(during)
        classes = @failures.group_by { |f| f.job_class || 'not a job' }.map { |klass, jobs| "#{klass} x#{jobs.size}" }
        ids = @failures.filter_map(&:job_id)
        listed = ids.first(MAX_LISTED_IDS).join(', ')
        listed += ", ... (#{ids.size - MAX_LISTED_IDS} more)" if ids.size > MAX_LISTED_IDS
        codes = @failures.map(&:code).tally.map { |code, n| "#{code} x#{n}" }
        dropped = @dropped.positive? ? " (#{@dropped} more failed and were only counted)" : ''
        "#{@count} async message(s) NOT DELIVERED #{during}, these jobs are lost#{dropped}: " \
          "job classes: #{classes.join(', ')}; job ids: #{listed.empty? ? 'none' : listed}; " \
          "errors: #{codes.join(', ')}; topics: #{@failures.map(&:topic).uniq.join(', ')}"
      end

      # The `error.occurred` payload of one failed async message (see {.dispatch_error}), with
      # karafka-rs' `job_class` / `job_id` when it was a job.
      # @param failure [Native::DeliveryFailure]
      # @param label [Object, nil] the message's WaterDrop label
      # @param producer_id [String]
      # @return [Hash]
      def self.event(failure, label, producer_id)
        error = Errors::ProduceError.new("#{failure.code}: #{failure.message}", code: failure.code,
                                                                                retryable: failure.retryable,
                                                                                fatal: failure.fatal)
        report = DeliveryReport.new(topic: failure.topic, partition: failure.partition, error: error, label: label)
        dispatch_error(report, producer_id).merge!({ job_class: failure.job_class, job_id: failure.job_id }.compact)
      end

      # WaterDrop's `error.occurred` for a message the broker did not take, sync or async:
      # `type: 'librdkafka.dispatch_error'`, `producer_id`, `error`, `topic`, `partition`,
      # `label` and its `delivery_report` (whose `label` is the message's).
      # @param report [DeliveryReport] with its `error`
      # @param producer_id [String]
      # @return [Hash]
      def self.dispatch_error(report, producer_id)
        { type: 'librdkafka.dispatch_error', producer_id: producer_id, error: report.error, topic: report.topic,
          partition: report.partition, delivery_report: report, label: report.label }.compact
      end
    end
  end
end
