# frozen_string_literal: true

module Karafka
  module Swarm
    # The supervisor's record of one node: its process, pipes, last report and restart plan.
    #
    # States: `:starting` (forked, its server not running yet), `:running`, `:stopping` (TERM
    # sent, KILL due at `kill_at`), `:dead` (waiting `restart_at`), `:stopped` (for good).
    class Node
      # @return [Integer] index, 0...config.swarm.nodes
      attr_reader :id
      # @return [Integer, nil] pid of the current process
      attr_reader :pid
      # @return [Symbol]
      attr_reader :state
      # @return [Integer] failed starts in a row (exits before the server ran)
      attr_reader :start_failures
      # @return [String, nil] the error the node last reported, or how it exited
      attr_reader :last_error
      # @return [Float, nil] monotonic time of the next start
      attr_reader :restart_at
      # @return [Float, nil] monotonic time at which a stopping node is killed
      attr_reader :kill_at
      # @return [Pipes, nil]
      attr_reader :pipes
      # @return [::Process::Status, nil] how the last process ended
      attr_reader :exit_status

      # @param id [Integer]
      def initialize(id)
        @id = id
        @state = :dead
        @start_failures = 0
        @restart_at = 0.0
      end

      # Forks the node's process.
      # @param inherited [Array<IO>] supervisor ends the child must close (see NodeProcess)
      # @param now [Float] monotonic time
      def start(inherited, now)
        @pipes = Pipes.new
        own = @pipes.supervisor_ends
        pipes = @pipes
        @pid = fork { NodeProcess.new(id, pipes, inherited + own).run }
        @pipes.close_node_ends
        @state = :starting
        @last_report = now
        @kill_at = nil
        @exit_status = nil
      end

      # Reports arrived from the node.
      # @param reports [Array<Hash>]
      # @param now [Float]
      def received(reports, now)
        @last_report = now
        reports.each do |report|
          case report['status']
          when 'running'
            @state = :running if @state == :starting
            @start_failures = 0
            @last_error = nil
          when 'error' then @last_error = report['error']
          end
        end
      end

      # @param timeout [Float] seconds
      # @return [Boolean] a live node that has not reported within `timeout`
      def silent?(now, timeout)
        %i[starting running].include?(@state) && now - @last_report > timeout
      end

      # @return [Float, nil] when this node next needs the supervisor's attention
      def next_deadline(report_timeout)
        case @state
        when :starting, :running then @last_report + report_timeout
        when :stopping then @kill_at
        when :dead then @restart_at
        end
      end

      # @return [Boolean] a process exists (not yet reaped)
      def alive?
        %i[starting running stopping].include?(@state)
      end

      # Asks the node to stop gracefully; KILL follows at `kill_at`.
      # @param kill_at [Float]
      def stop(kill_at)
        return unless alive?

        signal('TERM')
        @state = :stopping
        @kill_at = kill_at
      end

      # @param name [String]
      def signal(name)
        ::Process.kill(name, @pid) if @pid
      rescue Errno::ESRCH
        nil # exited already; the reaper will see it
      end

      # The process ended (reaped).
      # @param status [::Process::Status]
      # @param restart_delay [Float, nil] seconds before the next start; nil: never again
      # @return [Boolean] whether it ended before its server ran (a failed start)
      def exited(status, now, restart_delay)
        failed_start = @state == :starting
        @start_failures += 1 if failed_start
        @exit_status = status
        @last_error ||= "exited with #{describe(status)}" if failed_start
        @pipes&.close
        if restart_delay
          @state = :dead
          @restart_at = now + (restart_delay * (2**[@start_failures - 1, 0].max))
        else
          @state = :stopped
        end
        failed_start
      end

      # @param status [::Process::Status]
      # @return [String] "status 1" / "signal KILL"
      def describe(status = @exit_status)
        return 'no status' unless status
        return "signal #{Signal.signame(status.termsig)}" if status.signaled?

        "status #{status.exitstatus}"
      end
    end
  end
end
