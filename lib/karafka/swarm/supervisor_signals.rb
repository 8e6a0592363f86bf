# frozen_string_literal: true

module Karafka
  module Swarm
    # The supervisor's signals: a handler only writes the signal's name down a pipe the
    # supervisor's loop sleeps on (IO.select), so any signal wakes it at once. INT, TERM and
    # QUIT stop the swarm; TSTP and TTIN are passed on to every node, as Karafka's supervisor
    # does (TSTP quiets them, and no node is restarted after it; TTIN makes each log its
    # threads' backtraces).
    module SupervisorSignals
      SIGNALS = Server::SIGNALS
      FORWARDED = Server::NOTICE_SIGNALS

      private

      def trap_signals
        (SIGNALS + FORWARDED).each { |signal| trap(signal) { wake(signal) } }
        trap('CHLD') { wake('CHLD') }
      end

      # Runs inside a signal handler: no locks, no logging, just the name down the pipe.
      def wake(signal)
        @wake_writer.write_nonblock("#{signal}\n", exception: false)
      rescue IOError
        nil
      end

      # Signals the handlers wrote since the last call.
      def take_wakes
        chunk = @wake_reader.read_nonblock(4096, exception: false)
        @signals.concat(chunk.split("\n")) if chunk.is_a?(String)
      end

      # Passes TSTP and TTIN on to the nodes.
      # @return [String, nil] the stop signal received, if any
      def drain_signals
        signals = @signals
        @signals = []
        signals.select { |signal| FORWARDED.include?(signal) }.each { |signal| forward(signal) }
        signals.find { |signal| SIGNALS.include?(signal) }
      end

      def forward(signal)
        @quiet = true if signal == 'TSTP'
        @logger.info("karafka swarm: #{signal} received, passed on to #{@nodes.count(&:alive?)} node(s)")
        @nodes.select(&:alive?).each { |node| node.signal(signal) }
      end
    end
  end
end
