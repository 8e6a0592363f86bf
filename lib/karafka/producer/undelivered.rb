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

      # @param rows [Array<Array>] `[topic, partition, code, message, job_class, job_id]`
      # @param dropped [Integer] failures that were counted but not kept (memory bound)
      def initialize(rows, dropped)
        @rows = rows
        @count = rows.size + dropped
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
          @rows.each { |row| monitor.instrument('error.occurred', Undelivered.event(*row)) }
        end
        Karafka.logger.error(summary(during))
      end

      # @return [String] the log line
      def summary(during)
        classes = @rows.group_by { |row| row[4] || 'not a job' }.map { |klass, rows| "#{klass} x#{rows.size}" }
        ids = @rows.filter_map { |row| row[5] }
        listed = ids.first(MAX_LISTED_IDS).join(', ')
        listed += ", ... (#{ids.size - MAX_LISTED_IDS} more)" if ids.size > MAX_LISTED_IDS
        codes = @rows.map { |row| row[2] }.tally.map { |code, n| "#{code} x#{n}" }
        dropped = @dropped.positive? ? " (#{@dropped} more failed and were only counted)" : ''
        "#{@count} async message(s) NOT DELIVERED #{during}, these jobs are lost#{dropped}: " \
          "job classes: #{classes.join(', ')}; job ids: #{listed.empty? ? 'none' : listed}; " \
          "errors: #{codes.join(', ')}; topics: #{@rows.map(&:first).uniq.join(', ')}"
      end

      # The `error.occurred` payload of one failed async message.
      # @return [Hash]
      def self.event(topic, partition, code, message, job_class = nil, job_id = nil)
        { type: 'librdkafka.dispatch_error', error: Errors::ProduceError.new("#{code}: #{message}"),
          topic: topic, partition: partition, job_class: job_class, job_id: job_id }.compact
      end
    end
  end
end
