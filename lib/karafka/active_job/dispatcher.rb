# frozen_string_literal: true

module Karafka
  module ActiveJob
    # Turns jobs into Kafka messages and hands them to the job's producer with its dispatch
    # method. The payload is the job's `serialize` hash as JSON, as Karafka writes it, so jobs
    # enqueued by Karafka and by karafka-rs are interchangeable.
    #
    # Messages are built straight as the producer's rows ({Native::OutgoingMessage}), valid
    # by construction: a Hash per job and its checks cost more than the native produce itself
    # (bench/RESULTS.md, enqueue).
    class Dispatcher
      NO_HEADERS = [].freeze
      SYNC_METHODS = %i[produce_sync produce_many_sync].freeze
      private_constant :NO_HEADERS, :SYNC_METHODS

      # @param job [ActiveJob::Base]
      # @return [Producer::DeliveryReport, Integer] the report for sync dispatches
      def dispatch(job)
        options = job.class.karafka_options
        report = produce(producer_for(job, options), options[:dispatch_method], [row(job, options)])
        return report unless report.is_a?(Array)

        job.provider_job_id = report.first.to_s
        report.first
      end

      # Holds the job in its class' schedules topic until `timestamp`.
      # @param job [ActiveJob::Base]
      # @param timestamp [Numeric] epoch seconds
      def dispatch_at(job, timestamp)
        options = job.class.karafka_options
        report = produce(producer_for(job, options), options[:dispatch_method], [scheduled_row(job, options, timestamp)])
        report.is_a?(Array) ? report.first : report
      end

      # Dispatches many jobs with one call per (producer, dispatch method) group. Every
      # message is built before the first call, so a job that cannot be dispatched fails the
      # whole batch up front. Jobs with a future `scheduled_at` go through their schedules
      # topic (Karafka ignores it here).
      # @param jobs [Array<ActiveJob::Base>]
      # @return [Integer] number of jobs enqueued
      def dispatch_many(jobs)
        groups = Hash.new { |by_producer, producer| by_producer[producer] = {} }
        default_producer = nil # `Karafka.producer` takes a lock and a getpid: once per call
        jobs.each do |job|
          options = job.class.karafka_options
          producer = options[:producer] ? options[:producer].call(job) : (default_producer ||= Karafka.producer)
          rows, grouped = groups[producer][options[:dispatch_many_method]] ||= [[], []]
          at = Schedule.future_time(job)
          rows << (at ? scheduled_row(job, options, at) : row(job, options))
          grouped << job
        end
        groups.each do |producer, by_method|
          by_method.each do |method, (rows, grouped)|
            produce(producer, method, rows)
            # Rails 7.1+ reports per job whether it was enqueued; 6.1 has no such flag.
            grouped.each { |job| job.successfully_enqueued = true } if grouped.first.respond_to?(:successfully_enqueued=)
          end
        end
        jobs.size
      end

      private

      # @return [Array<Producer::DeliveryReport>, Integer] reports (sync) or the count (async)
      def produce(producer, method, rows)
        sync = SYNC_METHODS.include?(method)
        # A `producer:` option may return something else WaterDrop-like: give it hashes.
        unless producer.is_a?(Producer)
          messages = rows.map { |row| Producer::Message.from_row(row) }
          return producer.produce_many_sync(messages) if sync

          producer.produce_many_async(messages) # delivery handles, which jobs never wait for
          return rows.size
        end

        sync ? producer.produce_rows_sync(rows) : producer.produce_rows_async(rows)
      end

      def scheduled_row(job, options, timestamp)
        schedules_topic = options[:scheduled_messages_topic]
        unless schedules_topic
          raise Errors::SchedulingNotConfiguredError,
                "#{job.class.name} was enqueued for #{Time.at(timestamp).utc}, which needs " \
                'karafka_options(scheduled_messages_topic: ...) on the job class (and ' \
                'scheduled_messages(...) in the server routes)'
        end
        envelope = Schedule.envelope_row(row(job, options), schedules_topic, timestamp)
        # Where the schedule is, for Karafka::ActiveJob.cancel(job) to remove it (cancels.rb).
        job.instance_variable_set(:@karafka_schedule, [envelope.topic, envelope.key])
        envelope
      end

      def producer_for(job, options)
        options[:producer] ? options[:producer].call(job) : Karafka.producer
      end

      def row(job, options)
        topic = job.queue_name.to_s
        payload = serialize(job)
        # config.active_job.traces: the enqueuing context's traceparent / tracestate (trace.rb).
        headers = App.config.active_job.traces ? Trace.outgoing : NO_HEADERS
        partitioner = options[:partitioner]
        return Native::OutgoingMessage.new(topic, payload, nil, nil, nil, headers) unless partitioner

        value = partitioner.call(job)
        case options.fetch(:partition_key_type, :key)
        when :key then Native::OutgoingMessage.new(topic, payload, value.to_s, nil, nil, headers)
        when :partition_key then Native::OutgoingMessage.new(topic, payload, nil, value.to_s, nil, headers)
        else Native::OutgoingMessage.new(topic, payload, nil, nil, partition_number(topic, value), headers)
        end
      end

      # `config.internal.active_job.deserializer`: the default is Karafka's JSON, written by
      # the fast path below; a custom one gets the job with its current attributes.
      def serialize(job)
        serializer = App.config.internal.active_job.deserializer
        return to_json(CurrentAttributes.dump(job.serialize)) if serializer.instance_of?(Deserializer)

        job.extend(Deserializer::WithCurrentAttributes) unless CurrentAttributes.names.empty?
        payload = serializer.serialize(job)
        return payload if payload.is_a?(String)

        raise Errors::MessageInvalidError, "#{serializer.class}#serialize returned #{payload.class}, not a String"
      end

      # `JSON.generate` builds a JSON::State per call; a State reused per thread makes the JSON
      # step ~40% cheaper (1.8 -> 1.1 µs per job with json 2.6), same output. Per thread
      # (fiber) because a State keeps scratch buffers; its depth is reset because a failed
      # generate (NaN among the arguments) leaves it raised, and enough of those would
      # trip max_nesting for every later job.
      def to_json(hash)
        state = (Thread.current[:karafka_json_state] ||= ::JSON::State.new)
        state.depth = 0
        state.generate(hash)
      end

      def partition_number(topic, value)
        partition = Integer(value)
        Producer::Message.invalid!(:partition, { topic: topic }) if partition.negative?
        partition
      end
    end
  end
end
