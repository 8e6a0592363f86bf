# frozen_string_literal: true

require 'active_job'
require 'active_job/queue_adapters'
# Required on its own (Rails' adapter lookup, or by hand) it loads the gem; from lib/karafka.rb
# (which requires this file after the dispatcher) it must not require that file again.
require_relative '../../karafka' unless defined?(Karafka::ActiveJob::Dispatcher)

module ActiveJob
  module QueueAdapters
    # `config.active_job.queue_adapter = :karafka`: jobs are produced to the Kafka topic named
    # by their queue and run by `karafka server`.
    #
    # Where Rails defines `AbstractAdapter` (7.2+) it is the superclass, as for Karafka's own
    # adapter; on older Rails there is none and the adapter stands alone.
    class KarafkaAdapter < (QueueAdapters.const_defined?(:AbstractAdapter, false) ? AbstractAdapter : Object)
      # @param job [ActiveJob::Base]
      def enqueue(job)
        dispatcher.dispatch(job)
      end

      # `perform_all_later` (Rails' own on 7.1+, karafka-rs' on older Rails): one producer call
      # per dispatch method and producer; every job's `successfully_enqueued` is set (7.1+).
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

      # Rails 7.2+ asks this for jobs whose `enqueue_after_transaction_commit` is `:default`:
      # Kafka is not part of the database transaction, so a job enqueued inside one is
      # produced after it commits and dropped if it rolls back.
      def enqueue_after_transaction_commit?
        true
      end

      # Whether the server is shutting down (Active Job Continuation asks this during a job;
      # Rails 8.1 without an argument, older callers with the job).
      # @param _job [ActiveJob::Base, nil]
      def stopping?(_job = nil)
        Karafka::App.done?
      end

      private

      # Karafka's: the one in `config.internal.active_job` (specs stub it there).
      def dispatcher
        Karafka::App.config.internal.active_job.dispatcher
      end
    end
  end
end
