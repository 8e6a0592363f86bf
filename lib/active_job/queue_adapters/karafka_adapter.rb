# frozen_string_literal: true

require 'karafka'

module ActiveJob
  module QueueAdapters
    # `config.active_job.queue_adapter = :karafka`: jobs are produced to the Kafka topic named
    # by their queue and run by `karafka server`.
    class KarafkaAdapter
      # @param job [ActiveJob::Base]
      def enqueue(job)
        dispatcher.dispatch(job)
      end

      # `perform_all_later`: one producer call per dispatch method and producer.
      # @param jobs [Array<ActiveJob::Base>]
      # @return [Integer] jobs enqueued
      def enqueue_all(jobs)
        dispatcher.dispatch_many(jobs)
      end

      # Now (or past) times go straight to the job's topic; future times through the job's
      # `scheduled_messages_topic`.
      # @param job [ActiveJob::Base]
      # @param timestamp [Numeric] epoch seconds
      # @raise [Karafka::Errors::SchedulingNotConfiguredError] (a NotImplementedError, as
      #   Karafka raises) for a future time when the job class has no `scheduled_messages_topic`
      def enqueue_at(job, timestamp)
        return enqueue(job) if timestamp <= Time.now.to_f

        dispatcher.dispatch_at(job, timestamp)
      end

      # Jobs are dispatched after the surrounding transaction commits (Rails 7.2+ asks).
      def enqueue_after_transaction_commit?
        true
      end

      # Whether the server is shutting down (Active Job Continuation asks this during a job).
      # @param _job [ActiveJob::Base, nil]
      def stopping?(_job = nil)
        Karafka::App.stopping?
      end

      private

      def dispatcher
        @dispatcher ||= Karafka::ActiveJob::Dispatcher.new
      end
    end
  end
end
