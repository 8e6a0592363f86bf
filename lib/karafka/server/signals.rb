# frozen_string_literal: true

module Karafka
  class Server
    # The signals `karafka server` answers, as Karafka's: INT, TERM and QUIT stop it
    # gracefully; TSTP quiets it; TTIN logs every thread's backtrace. Each is published as
    # `process.notice_signal`. Signal traps only queue the name (a trap may not lock or log);
    # the main thread handles them in order.
    module Signals
      # Stop gracefully.
      SIGNALS = %w[INT TERM QUIT].freeze
      # TSTP: no new job starts and the partitions stay assigned until a stop signal (deploys
      # send it first, TERM at the end); TTIN: backtraces in the log (a stuck process).
      NOTICE_SIGNALS = %w[TSTP TTIN].freeze
      # Every signal `karafka server` traps, from its boot on.
      TRAPPED = (SIGNALS + NOTICE_SIGNALS).freeze
      # Seconds between two looks at whether the jobs running when quieting began are done.
      QUIET_CHECK = 0.05

      private

      def trap_signals
        TRAPPED.each { |signal| trap(signal) { request_stop(signal) } }
      end

      # A stop requested while the app booted means the server does not start; a TSTP or TTIN
      # then is handled once it runs.
      def stopped_before_start?
        early = Array.new(@stop_requests.size) { @stop_requests.pop(true) }
        return true if early.any? { |request| stop_request?(request) }

        early.each { |request| @stop_requests << request }
        false
      rescue ThreadError # emptied meanwhile
        false
      end

      def stop_request?(request)
        !NOTICE_SIGNALS.include?(request)
      end

      # Returns at the first stop request (a stop signal, Karafka::Server.stop, a failure).
      def handle_requests
        loop do
          request = @stop_requests.pop
          @monitor.instrument('process.notice_signal', { signal: :"SIG#{request}" }) if TRAPPED.include?(request)
          return if stop_request?(request)

          quiet if request == 'TSTP'
        end
      end

      # TSTP: no new job starts (recurring tasks stop firing too); running jobs finish and are
      # committed; the partitions stay assigned until a stop signal, so a deploy that quiets
      # every process first and then stops them causes no rebalance per process. The state
      # is `quieting` until those jobs are done, then `quiet`.
      def quiet
        return unless @app.running?

        @state_lock.synchronize do
          @app.state = :quieting
          @monitor.instrument('app.quieting', {})
        end
        @recurring&.stop
        @engines.each { |_, engine| engine._quiet }
        @quiet_watch = Thread.new do
          Thread.current.name = 'karafka.quiet'
          guarded('quiet') { wait_until_quiet }
        end
      end

      def wait_until_quiet
        sleep(QUIET_CHECK) until !@app.quieting? || @engines.all? { |_, engine| engine._load.first.zero? }
        @state_lock.synchronize do
          next unless @app.quieting?

          @app.state = :quiet
          @monitor.instrument('app.quiet', {})
        end
      end
    end
  end
end
