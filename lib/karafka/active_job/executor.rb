# frozen_string_literal: true

module Karafka
  module ActiveJob
    # Runs one job on a worker thread. The Rust engine calls {#call} for each job, on a Ruby
    # thread holding the GVL; the return value is the {Outcome}: {Outcome::SUCCESS} (commit)
    # or a failure naming the error (retry after a back-off, or dead-letter; dead-letter at
    # once when it failed after running past its deadline with `on_overdue: :dead_letter`,
    # lib/karafka/active_job/on_overdue.rb).
    # Only StandardErrors are the job's failures; anything else (Interrupt, SystemExit, a
    # killed thread) propagates and stops that worker, and the engine runs the job again later.
    class Executor
      # Error messages can quote a whole payload (JSON::ParserError does); the DLQ header and
      # the outcome carry at most this many characters, so a dead letter stays within the
      # broker's message size.
      MAX_ERROR_MESSAGE = 1_000

      # `jobs_queue` of `worker.processed`, as Karafka's Datadog listener reads it
      # (`statistics[:busy]`): jobs running now on this server's workers, counted while
      # Karafka's consume events have a subscriber (Datadog's listener has), so the job path
      # pays nothing otherwise. `enqueued` (jobs waiting for a worker) lives in the Rust
      # scheduler and is not reported (0).
      class JobsQueue
        def initialize
          @busy = 0
        end

        # Counted under the GVL; a plain counter (no lock) is exact enough for a gauge.
        # @api private
        attr_accessor :busy

        # @return [Hash{Symbol => Integer}] `busy:`, `enqueued:`
        def statistics
          { busy: @busy, enqueued: 0 }
        end
      end

      # Karafka's per-job and per-batch events: built only while someone listens to one.
      CONSUME_EVENTS = %w[active_job.consume active_job.consumed consumer.consume consumer.consumed].freeze
      PROCESSED = 'worker.processed'
      # Karafka's worker publishes these around worker.processed, with the same payload; its
      # docs release replica database connections on worker.completed. Published per job only
      # while someone listens.
      WORKER_EVENTS = %w[worker.process worker.completed].freeze

      # @param monitor [Instrumentation::Monitor]
      # @param config [Setup::Config]
      # @param tracker [Web::Tracker, nil] Karafka::Web's, told when a job that failed before
      #   succeeds (the engines tell it of every job: see Web::Tracker)
      def initialize(monitor, config = App.config, tracker: nil)
        @monitor = monitor
        @tracker = tracker
        @deserializer = config.internal.active_job.deserializer
        @custom_deserializer = !@deserializer.instance_of?(Deserializer)
        @group_id = config.consumer_group_id
        @epoch = nil
        @jobs_queue = JobsQueue.new
        # Opt-in features (config.active_job): each a boolean check per job while off.
        @cancels = !config.active_job.cancels_topic.nil?
        @traces = config.active_job.traces
        Deadlines.declared = true if config.active_job.deadline
        @dead_letter_routes = {}
        # Fixed for this executor's life; {#refresh_path} adds the checks that can change at runtime.
        @plain_features = !@custom_deserializer && !@cancels && !@traces
      end

      # With nothing to observe (no opt-in feature on, no per-job event anyone would act on),
      # the job runs bare: parse, `provider_job_id`, Active Job's `execute` (Karafka::Web's
      # tracker hears of a retry that succeeded). Inlined here on purpose: on Ruby 3.3 each
      # method call with these eight arguments shows per job (bench/executor_path.rb).
      # @return [Outcome]
      def call(payload, topic, partition, offset, key, headers, attempt, timestamp_ms = nil)
        return call_observed(payload, topic, partition, offset, key, headers, attempt, timestamp_ms) unless plain?

        begin
          job = parse(payload)
          # Where the job is stored now, as provider_job_id (like Sidekiq's jid): a payload
          # re-enqueued by retry_on carries the previous run's.
          job['provider_job_id'] = "#{topic}/#{partition}/#{offset}"
          ::ActiveJob::Base.execute(job)
          @tracker.recovered(topic, partition, offset) if @tracker && attempt.positive?
          Outcome::SUCCESS
        rescue StandardError => e
          failed(e, job, build_message(payload, topic, partition, offset, key, headers, timestamp_ms), attempt)
        end
      end

      # The engine paused a partition after a failure; the job will be retried.
      def paused(topic, partition, offset, attempt, timeout_ms)
        @monitor.instrument('consumer.consuming.pause',
                            { caller: stored_consumer(topic, partition, offset, attempt - 1), topic: topic,
                              partition: partition, offset: offset, attempt: attempt, timeout: timeout_ms })
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
        # AppSignal's listener reads caller.topic / caller.partition here.
        consumer = stored_consumer(topic, partition, offset, attempts - 1)
        @monitor.instrument('dead_letter_queue.dispatched',
                            { caller: consumer, message: consumer.messages.last, dead_letter_topic: dead_letter_topic,
                              attempts: attempts, truncated: !reduced.nil?, **location })
        nil
      end

      # @param text [String]
      # @return [String] at most {MAX_ERROR_MESSAGE} characters
      def self.truncate(text)
        text = text.scrub
        text.length > MAX_ERROR_MESSAGE ? "#{text[0, MAX_ERROR_MESSAGE]}... (#{text.length} characters)" : text
      end

      private

      # Whether the job runs bare: no opt-in feature on, no per-job event anyone would act on
      # (the default logger listener below INFO would not: Monitor#silenceable). Checked per
      # job against what can change at runtime: a subscription, `config.logger=`, a deadline
      # declared or current attributes persisted bump {PathEpoch}, and the listeners are asked
      # each time (a logger level may be lowered at any moment). The usual case, the logger
      # listener alone, is asked through its logger's level: on Ruby 3.3 the calls saved show
      # per job (bench/executor_path.rb).
      def plain?
        refresh_path unless PathEpoch.value == @epoch
        return !@quiet_logger.info? if @quiet_logger
        return @quiet_listener.silent_on?(PROCESSED) if @quiet_listener

        listeners = @plain_listeners or return false
        listeners.all? { |listener| listener.silent_on?(PROCESSED) }
      end

      # With events (worker.processed, Karafka's consume events) or opt-in features on.
      def call_observed(payload, topic, partition, offset, key, headers, attempt, timestamp_ms)
        instrumented = instrumented?
        message = build_message(payload, topic, partition, offset, key, headers, timestamp_ms) if @custom_deserializer || instrumented
        job = message ? read(message) : parse(payload)
        job['provider_job_id'] = "#{topic}/#{partition}/#{offset}"
        meta = meta(job, topic, partition, offset, attempt)
        @monitor.instrument('worker.process', meta) if @worker_events
        return cancelled(meta) if @cancels && Cancels.include?(job['job_id'])

        @monitor.instrument(PROCESSED, meta) do
          if instrumented
            execute_instrumented(job, message, attempt, headers, meta)
          else
            perform_watched(job, headers, meta)
          end
        end
        recovered(topic, partition, offset, attempt)
        Outcome::SUCCESS
      rescue StandardError => e
        message ||= build_message(payload, topic, partition, offset, key, headers, timestamp_ms)
        failed(e, job, message, attempt)
      ensure
        @monitor.instrument('worker.completed', meta) if @worker_events && meta
      end

      # A job that had failed before succeeded: Karafka::Web's tracker forgets its failures.
      def recovered(topic, partition, offset, attempt)
        @tracker.recovered(topic, partition, offset) if @tracker && attempt.positive?
      end

      # worker.processed's payload.
      def meta(job, topic, partition, offset, attempt)
        { job_class: job['job_class'], job_id: job['job_id'], topic: topic, partition: partition,
          offset: offset, attempt: attempt, jobs_queue: @jobs_queue }
      end

      # Whether anyone listens to {CONSUME_EVENTS}; looked up again only after a subscription
      # changed, so the check costs one comparison per job.
      def instrumented?
        refresh_path unless PathEpoch.value == @epoch
        @instrumented
      end

      # The epoch is read first: a change that lands while this runs bumps it again, so the
      # next job looks again instead of keeping a half-updated answer. `@plain_listeners`: nil
      # while jobs must be observed, else the listeners to ask (`@quiet_listener` when there
      # is just one; `@quiet_logger` when that one is the logger listener itself, whose
      # {Instrumentation::LoggerListener#silent_on? silent_on?} is its logger below INFO).
      def refresh_path
        epoch = PathEpoch.value
        @instrumented = CONSUME_EVENTS.any? { |name| @monitor.listening?(name) }
        @worker_events = WORKER_EVENTS.any? { |name| @monitor.listening?(name) }
        bare = @plain_features && !@instrumented && !@worker_events && !Deadlines.declared? &&
               CurrentAttributes.names.empty?
        @plain_listeners = bare ? @monitor.silenceable(PROCESSED) : nil
        @quiet_listener = @plain_listeners&.size == 1 ? @plain_listeners.first : nil
        @quiet_logger = @quiet_listener.instance_of?(Instrumentation::LoggerListener) ? @quiet_listener.logger : nil
        @epoch = epoch
      end

      # Karafka's order: consumer.consume, active_job.consume, the job, active_job.consumed
      # (with :time), consumer.consumed (with :time). A failing job publishes neither
      # "consumed" event (error.occurred instead), as in Karafka.
      def execute_instrumented(job, message, attempt, headers, meta)
        @jobs_queue.busy += 1
        consumer = Consumer.new(message, @group_id, attempt)
        @monitor.instrument('consumer.consume', { caller: consumer })
        @monitor.instrument('consumer.consumed', { caller: consumer }) do
          payload = { caller: consumer, job: job, message: message }
          payload[:trace] = Trace.context_of(headers) if @traces
          @monitor.instrument('active_job.consume', payload)
          @monitor.instrument('active_job.consumed', payload.dup) { perform_watched(job, headers, meta) }
        end
      ensure
        @jobs_queue.busy -= 1
      end

      # The job with its deadline watched and its trace context restored when those are on
      # (lib/karafka/active_job/deadlines.rb, trace.rb). With neither (nor persisted current
      # attributes), straight to Active Job: on Ruby 3.3 each Ruby frame less per job shows.
      def perform_watched(job, headers, meta)
        if Deadlines.declared? && (deadline = Deadlines.for(job['job_class']))
          return Deadlines.watch(deadline, meta, @monitor) { perform_traced(job, headers) }
        end
        return Trace.around(headers) { execute(job) } if @traces && headers
        return ::ActiveJob::Base.execute(job) if CurrentAttributes.names.empty?

        execute(job)
      end

      def perform_traced(job, headers)
        return Trace.around(headers) { execute(job) } if @traces && headers

        execute(job)
      end

      def execute(job)
        CurrentAttributes.around(job) { ::ActiveJob::Base.execute(job) }
      end

      # Reports a failed job and returns its outcome; with the deadline when it failed past it
      # and is `on_overdue: :dead_letter` (OnOverdue::Failure), on a topic with a dead letter queue.
      def failed(raised, job, message, attempt)
        error = OnOverdue.unwrap(raised)
        report(error, job, message, attempt)
        overdue = raised.is_a?(OnOverdue::Failure) && dead_letter_route?(job['job_class'], message.topic)
        Outcome.failure(error.class.name, self.class.truncate(error.message.to_s),
                        deadline_exceeded: overdue ? raised.deadline.to_s : nil)
      end

      # Whether `topic` has a dead letter queue for an overdue failure of `job_class`; if not,
      # the failure is retried as usual and reported once (OnOverdue.fallback).
      def dead_letter_route?(job_class, topic)
        routed = @dead_letter_routes.fetch(topic) do
          @dead_letter_routes[topic] = App.routes.topics.any? { |route| route.pattern.nil? && route.name == topic && route.dead_letter }
        end
        OnOverdue.fallback(job_class, topic, @monitor) unless routed
        routed
      end

      # A job cancelled before it started: not run, committed (lib/karafka/active_job/cancels.rb).
      def cancelled(meta)
        @monitor.instrument('active_job.cancelled', meta.except(:jobs_queue, :attempt))
        Outcome::SUCCESS
      end

      def build_message(payload, topic, partition, offset, key, headers, timestamp_ms)
        Consumer::Message.new(raw_payload: payload, topic: topic, partition: partition, offset: offset,
                              raw_key: key, raw_headers: headers || {},
                              timestamp: timestamp_ms && Time.at(timestamp_ms / 1000r), received_at: nil)
      end

      # The consumer view for events about a stored job whose payload the engine kept (pause,
      # dead letter): where it is, without its payload. `failed_before` excludes the failure
      # being reported, so `pause_tracker.attempt` counts it, as Karafka's does.
      def stored_consumer(topic, partition, offset, failed_before)
        Consumer.new(build_message(nil, topic, partition, offset, nil, nil, nil), @group_id, failed_before)
      end

      # The job of a message built for the events or a custom deserializer, which reads it.
      def read(message)
        message.payload = @custom_deserializer ? deserialize(message) : parse(message.raw_payload)
      end

      # A custom `config.internal.active_job.deserializer`.
      def deserialize(message)
        job = @deserializer.deserialize(message)
        return job if job.is_a?(Hash) && job['job_class'].is_a?(String)

        raise Errors::InvalidJobPayloadError,
              "#{@deserializer.class}#deserialize did not return a serialized Active Job (#{job.class})"
      end

      # JSON only: a payload is never evaluated as Ruby (no Marshal, no YAML, no JSON additions:
      # `create_additions` is off by default in JSON.parse of json 2.x, and passing it anyway
      # cost ~0.6 us per job on Ruby 3.3; executor_spec.rb checks that additions stay off).
      def parse(payload)
        raise Errors::InvalidJobPayloadError, 'payload is not valid UTF-8' unless payload.valid_encoding?

        job = ::JSON.parse(payload)
        return job if job.is_a?(Hash) && job['job_class'].is_a?(String)

        raise Errors::InvalidJobPayloadError, "not a serialized Active Job (#{payload.byteslice(0, 80).inspect})"
      end

      # `caller` is the consumer view Karafka's error listeners read (AppSignal, Datadog);
      # `seek_offset`, Karafka's first uncommitted offset of the batch, is the job's own here.
      def report(error, job, message, attempt)
        job = {} unless job.is_a?(Hash)
        @monitor.instrument('error.occurred',
                            { type: 'consumer.consume.error', error: error, caller: Consumer.new(message, @group_id, attempt),
                              seek_offset: message.offset, job_class: job['job_class'], job_id: job['job_id'],
                              topic: message.topic, partition: message.partition, offset: message.offset })
      end
    end
  end
end
