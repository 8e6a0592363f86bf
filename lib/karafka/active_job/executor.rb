# frozen_string_literal: true

module Karafka
  module ActiveJob
    # Runs one job on a worker thread. The Rust engine calls {#call} for each job, on a Ruby
    # thread holding the GVL; the return value is the outcome: `true` (commit) or
    # `[error_class, error_message]` (retry after a back-off, or dead-letter).
    # Only StandardErrors are the job's failures; anything else (Interrupt, SystemExit, a
    # killed thread) propagates and stops that worker, and the engine runs the job again later.
    class Executor
      # Error messages can quote a whole payload (JSON::ParserError does); the DLQ header and
      # the outcome carry at most this many characters, so a dead letter stays within the
      # broker's message size.
      MAX_ERROR_MESSAGE = 1_000
      # Frozen once: a literal option hash is a new Hash per job.
      PARSE_OPTIONS = { create_additions: false }.freeze

      def initialize(monitor)
        @monitor = monitor
      end

      # @return [true, Array(String, String)]
      def call(payload, topic, partition, offset, _key, _headers, attempt)
        job = parse(payload)
        # Where the job is stored, visible to the job as provider_job_id (like Sidekiq's jid).
        job['provider_job_id'] ||= "#{topic}/#{partition}/#{offset}"
        meta = { job_class: job['job_class'], job_id: job['job_id'], topic: topic, partition: partition,
                 offset: offset, attempt: attempt }
        @monitor.instrument('worker.processed', meta) do
          CurrentAttributes.around(job) { ::ActiveJob::Base.execute(job) }
        end
        true
      rescue StandardError => e
        report(e, job, topic, partition, offset)
        [e.class.name, self.class.truncate(e.message.to_s)]
      end

      # The engine paused a partition after a failure; the job will be retried.
      def paused(topic, partition, offset, attempt, timeout_ms)
        @monitor.instrument('consumer.consuming.pause',
                            { topic: topic, partition: partition, offset: offset, attempt: attempt,
                              timeout: timeout_ms })
        nil
      end

      # The engine dispatched (or skipped) a job that spent its retries.
      # @param dispatch_error [String, nil] why the dispatch failed (the job will be retried)
      # @param reduced [String, nil] what was left out of a dead letter too large to send whole
      def dead_lettered(topic, partition, offset, dead_letter_topic, attempts, dispatch_error, reduced = nil)
        location = { topic: topic, partition: partition, offset: offset }
        if dispatch_error
          @monitor.instrument('error.occurred', { type: 'dead_letter_queue.dispatch_error',
                                                  error: Errors::ProduceError.new(dispatch_error), **location })
          return
        end
        if reduced
          @monitor.instrument('error.occurred', { type: 'dead_letter_queue.truncated', dead_letter_topic: dead_letter_topic,
                                                  error: Errors::ProduceError.new(reduced), **location })
        end
        @monitor.instrument('dead_letter_queue.dispatched',
                            { dead_letter_topic: dead_letter_topic, attempts: attempts, truncated: !reduced.nil?,
                              **location })
        nil
      end

      # @param text [String]
      # @return [String] at most {MAX_ERROR_MESSAGE} characters
      def self.truncate(text)
        text = text.scrub
        text.length > MAX_ERROR_MESSAGE ? "#{text[0, MAX_ERROR_MESSAGE]}... (#{text.length} characters)" : text
      end

      private

      # JSON only: a payload is never evaluated as Ruby (no Marshal, no YAML, no JSON additions).
      def parse(payload)
        raise Errors::InvalidJobPayloadError, 'payload is not valid UTF-8' unless payload.valid_encoding?

        job = ::JSON.parse(payload, PARSE_OPTIONS)
        return job if job.is_a?(Hash) && job['job_class'].is_a?(String)

        raise Errors::InvalidJobPayloadError, "not a serialized Active Job (#{payload.byteslice(0, 80).inspect})"
      end

      def report(error, job, topic, partition, offset)
        job = {} unless job.is_a?(Hash)
        @monitor.instrument('error.occurred',
                            { type: 'consumer.consume.error', error: error, job_class: job['job_class'],
                              job_id: job['job_id'], topic: topic, partition: partition, offset: offset })
      end
    end
  end
end
