# frozen_string_literal: true

require_relative 'base_listener'

module Karafka
  module Instrumentation
    module Vendors
      module Kubernetes
        # Karafka's liveness probe: `Karafka.monitor.subscribe(LivenessListener.new(port: 3000))`
        # in karafka.rb. Once the server runs it answers 200 with a JSON status, or 500 naming
        # the reason in `errors`:
        #
        # - `consumption_ttl_exceeded`: a worker has been in one job longer than `consuming_ttl`
        #   (tracked from `consumer.consume` to `consumer.consumed` / `error.occurred`);
        # - `polling_ttl_exceeded`: the consumer loop has not come back to Ruby within
        #   `polling_ttl` (`connection.listener.fetch_loop`, published at least every second);
        # - `unrecoverable`: librdkafka reported a fatal error (e.g. a fenced static member):
        #   the consumer cannot recover without a restart;
        # - `overdue_grace_exceeded` (karafka-rs, with `overdue_grace:`): a job has run past its
        #   deadline (`karafka_options(deadline:)`, lib/karafka/active_job/deadlines.rb) by more
        #   than `overdue_grace` ms. Healthy again once that job returns.
        #
        # Swarm mode: use {SwarmLivenessListener} in the supervisor.
        class LivenessListener < BaseListener
          DEFAULT_CONSUMING_TTL = 5 * 60 * 1_000
          DEFAULT_POLLING_TTL = 5 * 60 * 1_000
          # How the engine's librdkafka errors say they are fatal: a consumer error event
          # flagged fatal (`(Fatal) Message consumption error: ...`), or RD_KAFKA_RESP_ERR__FATAL.
          FATAL_MESSAGE = /\A\(Fatal\) |Local: Fatal error/

          # @param hostname [String, nil] nil binds on every interface
          # @param port [Integer]
          # @param consuming_ttl [Integer] ms one job may run before the process counts as hung
          # @param polling_ttl [Integer] ms the consumer loop may go without polling
          # @param overdue_grace [Integer, nil] ms a job may stay overdue; nil: overdue jobs
          #   never make the process unhealthy
          def initialize(hostname: nil, port: 3000, consuming_ttl: DEFAULT_CONSUMING_TTL,
                         polling_ttl: DEFAULT_POLLING_TTL, overdue_grace: nil)
            super(hostname: hostname, port: port)
            @consuming_ttl = consuming_ttl
            @polling_ttl = polling_ttl
            @overdue_grace = overdue_grace && (overdue_grace / 1000.0)
            @mutex = Mutex.new
            @pollings = {}
            @consumptions = {}
            @unrecoverable = false
          end

          # @param _event [Monitor::Event]
          def on_app_running(_event)
            start
          end

          # @param _event [Monitor::Event]
          def on_app_stopped(_event)
            stop
          end

          # @param _event [Monitor::Event]
          def on_connection_listener_fetch_loop(_event)
            mark(@pollings)
          end

          # Karafka's before/after pairs; only consume/consumed fire in karafka-rs (jobs have
          # no revoke, shutdown or tick hooks), the others are here for listeners that call them.
          { consume: :consumed, revoke: :revoked, shutting_down: :shutdown, tick: :ticked }.each do |before, after|
            define_method(:"on_consumer_#{before}") { |_event| mark(@consumptions) }
            define_method(:"on_consumer_#{after}") { |_event| clear(@consumptions) }
          end

          # A failed job ends its consumption; a fatal librdkafka error makes the process
          # unhealthy for good.
          # @param event [Monitor::Event]
          def on_error_occurred(event)
            clear(@consumptions)
            clear(@pollings)
            @unrecoverable = :fatal if fatal?(event[:error])
          end

          # @return [Boolean]
          def healthy?
            flags = evaluate
            !@unrecoverable && !flags[:polling] && !flags[:consuming] && !flags[:overdue]
          end

          private

          def fatal?(error)
            # Errors::BaseError answers fatal? for an error with a librdkafka code; the engine's
            # consumer error events carry none and say it in their message.
            return true if error.respond_to?(:fatal?) && error.fatal? == true

            error.respond_to?(:message) && FATAL_MESSAGE.match?(error.message.to_s)
          end

          # Keyed by thread: the listener thread polls, each worker thread runs one job at a time.
          def mark(ticks)
            @mutex.synchronize { ticks[Thread.current] = monotonic_now }
          end

          def clear(ticks)
            @mutex.synchronize { ticks.delete(Thread.current) }
          end

          def evaluate
            now = monotonic_now
            flags = @mutex.synchronize do
              { polling: @pollings.values.any? { |tick| now - tick > @polling_ttl },
                consuming: @consumptions.values.any? { |tick| now - tick > @consuming_ttl } }
            end
            flags[:overdue] = overdue?
            flags
          end

          def overdue?
            return false unless @overdue_grace && defined?(Karafka::ActiveJob::Deadlines)

            Karafka::ActiveJob::Deadlines.overdue_longer_than?(@overdue_grace)
          end

          # One evaluation for both the status code and the reasons.
          def status_body
            flags = evaluate
            healthy = !@unrecoverable && !flags[:polling] && !flags[:consuming] && !flags[:overdue]
            errors = { polling_ttl_exceeded: flags[:polling], consumption_ttl_exceeded: flags[:consuming],
                       unrecoverable: @unrecoverable }
            # Karafka's body unless `overdue_grace:` is set.
            errors[:overdue_grace_exceeded] = flags[:overdue] if @overdue_grace
            { status: healthy ? 'healthy' : 'unhealthy', timestamp: Time.now.to_i, port: @port,
              process_id: ::Process.pid, errors: errors }
          end
        end
      end
    end
  end
end
