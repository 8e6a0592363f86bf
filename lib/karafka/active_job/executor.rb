# frozen_string_literal: true

module Karafka
  module ActiveJob
    # Runs one job on a worker thread. The Rust engine calls {#call} for each job, on a Ruby
    # thread holding the GVL; the return value is the outcome (true: commit, false: retry).
    # Only StandardErrors are the job's failures; anything else (Interrupt, SystemExit, a
    # killed thread) propagates and stops that worker, after the engine recorded the job as
    # not done.
    class Executor
      def initialize(monitor)
        @monitor = monitor
      end

      # @return [Boolean] whether the job succeeded
      def call(payload, topic, partition, offset, _key, _headers, attempt)
        job = ::JSON.parse(payload)
        raise Errors::UnsupportedFeatureError, 'payload is not an Active Job' unless job.is_a?(Hash) && job['job_class']

        meta = { job_class: job['job_class'], job_id: job['job_id'], topic: topic, partition: partition,
                 offset: offset, attempt: attempt }
        @monitor.instrument('worker.processed', meta) do
          CurrentAttributes.around(job) { ::ActiveJob::Base.execute(job) }
        end
        true
      rescue StandardError => e
        report(e, job, topic, partition, offset)
        false
      end

      # The engine paused a partition after a failure; the job will be retried.
      def paused(topic, partition, offset, attempt, timeout_ms)
        @monitor.instrument('consumer.consuming.pause',
                            { topic: topic, partition: partition, offset: offset, attempt: attempt,
                              timeout: timeout_ms })
        nil
      end

      private

      def report(error, job, topic, partition, offset)
        job = {} unless job.is_a?(Hash)
        @monitor.instrument('error.occurred',
                            { type: 'consumer.consume.error', error: error, job_class: job['job_class'],
                              job_id: job['job_id'], topic: topic, partition: partition, offset: offset })
      end
    end
  end
end
