# frozen_string_literal: true

require_relative 'producer/message'
require_relative 'producer/delivery_report'
require_relative 'producer/delivery_handle'
require_relative 'producer/labels'
require_relative 'producer/acknowledgements'
require_relative 'producer/reporter'
require_relative 'producer/undelivered'
require_relative 'producer/exit_flush'
require_relative 'producer/water_drop_api'

module Karafka
  # The WaterDrop-compatible producer behind `Karafka.producer`: `produce_sync`,
  # `produce_async`, `produce_many_sync`, `produce_many_async`, `with(topic_config:)`.
  #
  # Async failures are reported by a Ruby thread that waits (GVL released) for librdkafka's
  # delivery reports and publishes `error.occurred` with `type: 'librdkafka.dispatch_error'`.
  class Producer
    include WaterDropApi
    include Reporter

    # @return [Instrumentation::Monitor] producer events (`message.produced_async`, ...)
    attr_reader :monitor
    # @return [Hash] librdkafka settings of this producer
    attr_reader :kafka

    # WaterDrop's default `max_wait_timeout` (ms): the longest a sync dispatch waits.
    DEFAULT_MAX_WAIT_TIMEOUT = 60_000
    # librdkafka looks for timed-out messages once a second: a report can come that late.
    REPORT_GRACE_MS = 1_000

    # @return [Integer] ms a sync dispatch waits at most (for room in librdkafka's queue and
    #   for its delivery reports) before it raises
    attr_reader :max_wait_timeout

    # @param kafka [Hash] librdkafka settings
    # @param monitor [Instrumentation::Monitor]
    # @param max_wait_timeout [Integer] ms (WaterDrop's setting of that name)
    def initialize(kafka:, monitor: Instrumentation::Monitor.new, max_wait_timeout: DEFAULT_MAX_WAIT_TIMEOUT)
      configure(kafka: kafka, monitor: monitor, max_wait_timeout: max_wait_timeout)
    end

    # @return [Boolean] whether {#close} ran
    def closed?
      @closed == true
    end

    # @param message [Hash]
    # @return [DeliveryReport]
    # @raise [Errors::DeliveryError] (a `WaterDrop::Errors::ProduceError`) when the broker did
    #   not take the message, or gave no report within {max_wait_timeout} (code `:wait_timeout`)
    def produce_sync(message)
      produce_many_sync([message]).first
    end

    # @param message [Hash]
    # @return [DeliveryHandle] (`wait` for its {DeliveryReport})
    def produce_async(message)
      produce_many_async([message]).first
    end

    # @param messages [Array<Hash>]
    # @return [Array<DeliveryReport>]
    # @raise [Errors::DeliveryError] naming how many failed
    def produce_many_sync(messages)
      messages = @middleware.run_many(messages) unless @middleware.empty?
      produce_rows_sync(messages.map { |message| Message.to_row(message) }, messages)
    end

    # @param messages [Array<Hash>]
    # @return [Array<DeliveryHandle>] one per message, as WaterDrop's
    def produce_many_async(messages)
      messages = @middleware.run_many(messages) unless @middleware.empty?
      rows = labelled(messages, messages.map { |message| Message.to_row(message) })
      start_reporter
      instrument(rows.size == 1 ? 'message.produced_async' : 'messages.produced_async', rows, messages) do
        pending = native._produce_async_tracked(rows)
        Array.new(rows.size) { |index| DeliveryHandle.new(pending, index, messages[index][:label]) }
      end
    rescue StandardError => e
      forget_labels(rows)
      raised(e, rows, messages, sync: false)
    end

    # For the job dispatcher, whose rows are valid as built: it skips a Hash and its checks per
    # job on the enqueue path (see bench/RESULTS.md, enqueue). Same events as produce_many_sync.
    # @api private
    # @param rows [Array<Native::OutgoingMessage>] as {Message.to_row} returns them
    # @param messages [Array<Hash>, nil] the rows as hashes, when the caller has them
    # @return [Array<DeliveryReport>]
    def produce_rows_sync(rows, messages = nil)
      rows, messages = through_middleware(rows) unless messages || @middleware.empty?
      instrument(rows.size == 1 ? 'message.produced_sync' : 'messages.produced_sync', rows, messages) do
        reports(native._produce_sync(rows, @max_wait_timeout), messages)
      end
    rescue StandardError => e
      raised(e, rows, messages, sync: true)
    end

    # @api private (see produce_rows_sync; no delivery handles: jobs' dispatches never wait)
    # @return [Integer] messages enqueued
    def produce_rows_async(rows, messages = nil)
      rows, messages = through_middleware(rows, async: true) unless messages || @middleware.empty?
      start_reporter
      instrument(rows.size == 1 ? 'message.produced_async' : 'messages.produced_async', rows, messages) do
        native._produce_async(rows)
      end
    rescue StandardError => e
      forget_labels(rows)
      raised(e, rows, messages, sync: false)
    end

    # A variant: the same API with its own topic settings (acks, compression, timeouts).
    # @param topic_config [Hash] librdkafka topic settings, e.g. `{ 'acks': 'all' }`
    # @param max_wait_timeout [Integer, nil] ms a message may take to be delivered: the
    #   variant's message.timeout.ms; its sync dispatches wait {REPORT_GRACE_MS} longer, so the
    #   delivery report (`:msg_timed_out`) arrives with its cause before the wait gives up
    # @return [Producer]
    def with(topic_config: {}, max_wait_timeout: nil)
      settings = topic_config.dup
      settings[:'message.timeout.ms'] = max_wait_timeout if max_wait_timeout
      wait = max_wait_timeout ? max_wait_timeout + REPORT_GRACE_MS : @max_wait_timeout
      @variants[[settings, wait]] ||= Producer.new(kafka: kafka.merge(settings), monitor: monitor, max_wait_timeout: wait)
                                              .tap { |variant| variant.share_middleware(@middleware) }
    end
    alias variant with

    # Waits until every queued message is delivered or failed.
    # @param timeout_ms [Integer]
    # @return [Boolean] false when messages were still pending at the timeout
    def flush(timeout_ms = 30_000)
      native._flush(timeout_ms)
    end

    # Flushes (at most `timeout_ms`) and releases the librdkafka handle; idempotent. Messages
    # still undelivered then are given up on and reported (see {Undelivered}).
    # @return [Boolean] true when every message was delivered
    def close(timeout_ms = 30_000)
      return true unless @native # a WaterDrop::Producer never set up: nothing to close
      return @closed = true if inherited? # the parent's handle: the parent delivers its messages

      delivered = @variants.each_value.map { |variant| variant.close(timeout_ms) }.all?
      stop_reporter
      flushed, failures, dropped, acknowledged = native._close(timeout_ms)
      acknowledged.each { |ack| Acknowledgements.publish(@monitor, id, Acknowledgements.report(ack, @labels)) }
      undelivered = Undelivered.new(failures, dropped, @labels, id)
      @undelivered_count += undelivered.count
      undelivered.report(@monitor, during: "when the producer closed (flush bound #{timeout_ms} ms)")
      @labels.clear # reported: nothing will settle the rest
      @closed = true
      delivered && flushed && undelivered.none?
    end

    # @return [Integer] messages this producer and its variants gave up on when they closed
    def undelivered_count
      return 0 unless @native # a WaterDrop::Producer never set up sent nothing

      @undelivered_count + @variants.each_value.sum(&:undelivered_count)
    end

    protected

    # A variant runs its producer's middleware (WaterDrop's variants share it).
    def share_middleware(middleware)
      @middleware = middleware
    end

    private

    # Builds the librdkafka producer (WaterDrop::Producer calls this once its `setup` ran).
    def configure(kafka:, monitor:, max_wait_timeout:)
      unless max_wait_timeout.is_a?(Integer) && max_wait_timeout.positive?
        raise Errors::InvalidConfigurationError, "max_wait_timeout must be a positive Integer (ms), got #{max_wait_timeout.inspect}"
      end

      @kafka = kafka
      @monitor = monitor
      @max_wait_timeout = max_wait_timeout
      @native = Native::Producer.new(kafka.map { |key, value| [key.to_s, value.to_s] })
      Instrumentation::LibrdkafkaLog.ensure_running
      @native_pid = ::Process.pid
      @fork_mutex = Mutex.new
      @reporter = nil
      @reporter_mutex = Mutex.new
      @variants = {}
      @undelivered_count = 0
      @labels = Labels.new
      @closed = false
      @middleware = middleware # a WaterDrop::Producer's may have steps from before its setup
    end

    # @return [Native::Producer]
    # @raise [Errors::ProduceError] a WaterDrop::Producer made without a block, not set up yet
    def native
      raise Errors::ProduceError, 'this WaterDrop::Producer has no settings yet: call #setup first' unless @native

      renew_after_fork if inherited?
      @native
    end

    # Whether the librdkafka handle was made by the process this one was forked from.
    def inherited?
      @native_pid != ::Process.pid
    end

    # A forked child (a Puma or Resque worker) has the parent's handle but none of its
    # threads: messages given to it would never leave. So, as WaterDrop's producer does, the
    # child makes a handle of its own on first use; the inherited one is never used nor
    # destroyed (Native::Producer leaves it alone in a child). Variants are made again too.
    def renew_after_fork
      @fork_mutex.synchronize do
        next unless inherited?

        @native = Native::Producer.new(@kafka.map { |key, value| [key.to_s, value.to_s] })
        Instrumentation::LibrdkafkaLog.ensure_running
        @reporter = nil
        @variants = {}
        @labels = Labels.new # the parent's in-flight labels are the parent's to report
        @acknowledging_epoch = nil # the new handle has not been told (Reporter)
        @native_pid = ::Process.pid
      end
    end

    # Jobs' rows as message hashes through the middleware, and back.
    # @return [Array(Array<Native::OutgoingMessage>, Array<Hash>)]
    def through_middleware(rows, async: false)
      messages = @middleware.run_many(rows.map { |row| Message.from_row(row) })
      rows = messages.map { |message| Message.to_row(message) }
      [async ? labelled(messages, rows) : rows, messages]
    end

    # A dispatch that raised was not sent, or not all of it: what was sent reports without its
    # label rather than the producer keeping labels that nothing will settle.
    def forget_labels(rows)
      rows&.each { |row| @labels.take(row.label) }
    end

    # Async rows carry their messages' label tokens: a label waits in {Labels} for the
    # delivery's fate. Tokens are taken once every message is valid, so none is left behind.
    # @return [Array<Native::OutgoingMessage>] rows
    def labelled(messages, rows)
      messages.each_with_index do |message, index|
        rows[index].label = @labels.register(message[:label]) unless message[:label].nil?
      end
      rows
    end

    # Message hashes for the event are built only when someone listens. WaterDrop's payloads:
    # `message:` for one (`message.produced_*`), `messages:` for many, and `producer_id:`.
    def instrument(name, rows, messages, &block)
      return yield unless @monitor.listening?(name)

      messages ||= rows.map { |row| Message.from_row(row) }
      payload = rows.size == 1 ? { message: messages.first } : { messages: messages }
      @monitor.instrument(name, { producer_id: id, **payload }, &block)
    end

    # @param deliveries [Array<Native::Delivery>]
    # @param messages [Array<Hash>, nil] for their labels (jobs' rows have none)
    def reports(deliveries, messages)
      reports = deliveries.each_with_index.map do |delivery, index|
        DeliveryReport.from_delivery(delivery, messages && messages[index][:label])
      end
      publish_outcomes(reports)
      failures = reports.filter_map { |report| report.error&.failures&.first }
      return reports if failures.empty?

      maybe_delivered = reports.select { |report| report.error.nil? || report.error.code == :wait_timeout }
      raise Errors::DeliveryError.new(failures, deliveries.size, dispatched: maybe_delivered.map { |report| DeliveryHandle::Done.new(report) })
    end

    # What WaterDrop's delivery callback publishes for each message of a sync call:
    # `message.acknowledged` for a delivered one, `error.occurred` (`librdkafka.dispatch_error`)
    # for one the broker refused; the call's own `message.produce_sync` follows ({#raised}). Not
    # for a wait that ran out: no report came, and the message may still be delivered.
    def publish_outcomes(reports)
      acknowledging = @monitor.listening?(Acknowledgements::EVENT)
      erring = @monitor.listening?('error.occurred')
      return unless acknowledging || erring

      reports.each do |report|
        if report.error.nil?
          Acknowledgements.publish(@monitor, id, report) if acknowledging
        elsif erring && report.error.code != :wait_timeout
          @monitor.instrument('error.occurred', Undelivered.dispatch_error(report, id))
        end
      end
    end

    # WaterDrop publishes a dispatch that raised (not taken, not delivered, no report in time)
    # as `error.occurred` before it re-raises it, so error trackers subscribed to the producer
    # see sync failures too: `type` `message.produce_sync` / `messages.produce_many_sync` (or
    # `_async`: an async dispatch that could not be enqueued), `message:` or `messages:`, and a
    # failed sync dispatch's `dispatched:`. Invalid messages raise before this, unpublished, as
    # WaterDrop's do.
    # @raise [StandardError] error, always
    def raised(error, rows, messages, sync:)
      if error.is_a?(Errors::ProduceError) && rows && @monitor.listening?('error.occurred')
        messages ||= rows.map { |row| Message.from_row(row) }
        payload = if rows.size == 1
                    { type: sync ? 'message.produce_sync' : 'message.produce_async', message: messages.first }
                  else
                    { type: sync ? 'messages.produce_many_sync' : 'messages.produce_many_async', messages: messages }
                  end
        # Only a sync failure knows which messages may have gone: an async one that raised
        # partway does not say how far it got.
        payload[:dispatched] = error.dispatched if error.respond_to?(:dispatched)
        @monitor.instrument('error.occurred', { producer_id: id, error: error, **payload })
      end
      raise error
    end
  end
end
