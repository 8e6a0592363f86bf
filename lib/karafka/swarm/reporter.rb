# frozen_string_literal: true

module Karafka
  module Swarm
    # The node's health reports: a Ruby thread that tells the supervisor every
    # `liveness_interval` that the node is alive, and stops the node when the supervisor is gone.
    #
    # Being a Ruby thread, it reports only while the node's Ruby VM runs threads: a node that
    # is stopped (SIGSTOP), deadlocked or holding the GVL in a C call goes silent and the
    # supervisor replaces it after `node_report_timeout`. A job that waits (GVL released) does
    # not silence it: that is what a liveness probe's `consuming_ttl` is for.
    class Reporter
      # @param pipes [Pipes]
      # @param interval [Numeric] seconds between reports
      # @param on_orphaned [#call] called once when the supervisor is gone
      def initialize(pipes, interval, on_orphaned)
        @pipes = pipes
        @interval = interval
        @on_orphaned = on_orphaned
      end

      # @return [Thread]
      def start
        report('status' => 'alive')
        @thread = Thread.new do
          Thread.current.name = 'karafka.swarm.reporter'
          Thread.current.report_on_exception = false
          loop do
            # The lifeline only ever becomes readable at end-of-file: the supervisor is gone.
            if IO.select([@pipes.lifeline], nil, nil, @interval)
              @on_orphaned.call
              break
            end
            report('status' => 'alive')
          end
        end
        self
      end

      # The server runs (its workers and listener started).
      def running!
        report('status' => 'running')
      end

      # @param error [Exception] what stops the node
      def error!(error)
        report('status' => 'error', 'error' => "#{error.class}: #{error.message}")
      end

      private

      def report(entry)
        @pipes.write_report(entry.merge('pid' => ::Process.pid))
      end
    end
  end
end
