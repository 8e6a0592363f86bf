# frozen_string_literal: true

module Karafka
  module ActiveJob
    # Turns jobs into Kafka messages and hands them to the job's producer with its dispatch
    # method. The payload is the job's `serialize` hash as JSON, as Karafka writes it, so jobs
    # enqueued by Karafka and by karafka-rs are interchangeable.
    class Dispatcher
      # @param job [ActiveJob::Base]
      # @return [Producer::DeliveryReport, Integer] the report for sync dispatches
      def dispatch(job)
        options = job.class.karafka_options
        result = producer_for(job, options).public_send(options[:dispatch_method], message(job, options))
        job.provider_job_id = result.to_s if result.is_a?(Producer::DeliveryReport)
        result
      end

      # Holds the job in its class' schedules topic until `timestamp`.
      # @param job [ActiveJob::Base]
      # @param timestamp [Numeric] epoch seconds
      def dispatch_at(job, timestamp)
        options = job.class.karafka_options
        producer_for(job, options).public_send(options[:dispatch_method], scheduled_message(job, options, timestamp))
      end

      # Dispatches many jobs with one call per (dispatch method, producer) group. Jobs with a
      # future `scheduled_at` go through their schedules topic (Karafka ignores it here).
      # @param jobs [Array<ActiveJob::Base>]
      # @return [Integer] number of jobs enqueued
      def dispatch_many(jobs)
        groups = jobs.group_by do |job|
          options = job.class.karafka_options
          [options[:dispatch_many_method], producer_for(job, options)]
        end
        groups.each do |(method, producer), grouped|
          messages = grouped.map do |job|
            options = job.class.karafka_options
            at = Schedule.future_time(job)
            at ? scheduled_message(job, options, at) : message(job, options)
          end
          producer.public_send(method, messages)
          grouped.each { |job| job.successfully_enqueued = true if job.respond_to?(:successfully_enqueued=) }
        end
        jobs.size
      end

      private

      def scheduled_message(job, options, timestamp)
        schedules_topic = options[:scheduled_messages_topic]
        unless schedules_topic
          raise Errors::InvalidConfigurationError,
                "#{job.class.name} was enqueued for #{Time.at(timestamp).utc}, which needs " \
                'karafka_options(scheduled_messages_topic: ...) on the job class (and ' \
                'scheduled_messages(...) in the server routes)'
        end
        Schedule.envelope(message(job, options), schedules_topic, timestamp)
      end

      def producer_for(job, options)
        options[:producer] ? options[:producer].call(job) : Karafka.producer
      end

      def message(job, options)
        message = { topic: job.queue_name, payload: ::JSON.generate(serialize(job)) }
        partitioner = options[:partitioner]
        return message unless partitioner

        value = partitioner.call(job)
        type = options.fetch(:partition_key_type, :key)
        message[type] = type == :partition ? Integer(value) : value.to_s
        message
      end

      def serialize(job)
        CurrentAttributes.dump(job.serialize)
      end
    end
  end
end
