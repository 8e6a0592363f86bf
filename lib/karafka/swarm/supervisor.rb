# frozen_string_literal: true

require_relative 'supervisor_signals'
require_relative 'pipes'
require_relative 'fork_guard'
require_relative 'reporter'
require_relative 'node_process'
require_relative 'node'

module Karafka
  # `karafka swarm`: a supervisor process forks `config.swarm.nodes` nodes, each running
  # `Karafka::Server`, and keeps them alive.
  module Swarm
    # Forks the nodes, restarts the ones that die or stop reporting, and stops them all on
    # SIGINT / SIGTERM / SIGQUIT (signals: supervisor_signals.rb). The app (karafka.rb, routes) is loaded once, here; nothing
    # native is created here (ForkGuard).
    #
    # One thread: it sleeps in IO.select on the nodes' report pipes and a pipe its signal
    # handlers write to, so a report, a node's death (end-of-file on its pipe, SIGCHLD) or a
    # signal wakes it at once; otherwise it wakes at the next deadline (a report due, a
    # restart, a kill) or after `supervision_interval`.
    class Supervisor
      include SupervisorSignals

      # @param app [Class] Karafka::App
      def initialize(app = App)
        @app = app
        @config = app.config
        @settings = @config.internal.swarm
        @monitor = Karafka.monitor
        @logger = Karafka.logger
        @signals = []
      end

      # @return [Integer] exit status: 0 when every node stopped cleanly; `forceful_exit_code`
      #   when nodes had to be killed at shutdown; 1 when the nodes could not start or a
      #   restart found native Kafka state in the supervisor
      # @raise [UnsafeForkError] when the first fork would copy native Kafka state
      def run
        validate!
        ::Process.setproctitle("karafka##{@config.client_id} supervisor")
        warmup
        @wake_reader, @wake_writer = IO.pipe
        trap_signals
        @nodes = Array.new(@config.swarm.nodes) { |id| Node.new(id) }
        @app.transition(:supervising)
        @logger.info("karafka swarm: supervisor #{::Process.pid} starting #{@nodes.size} node(s)")
        outcome = begin
          supervise
        rescue UnsafeForkError => e
          # The first fork raises to the CLI; a later one (a restart) must stop the running nodes.
          raise if @nodes.none?(&:alive?)

          @failure = e
          :unsafe
        end
        shutdown(outcome)
      ensure
        @wake_reader&.close
        @wake_writer&.close
      end

      private

      def validate!
        nodes = @config.swarm.nodes
        unless nodes.is_a?(Integer) && nodes.positive?
          raise Errors::InvalidConfigurationError, "config.swarm.nodes must be a positive integer (got #{nodes.inspect})"
        end

        %i[liveness_interval node_report_timeout node_restart_timeout supervision_interval].each do |name|
          value = @settings.public_send(name)
          next if value.is_a?(Integer) && value.positive?

          raise Errors::InvalidConfigurationError,
                "config.internal.swarm.#{name} must be a positive integer of milliseconds (got #{value.inspect})"
        end
      end

      # Karafka's warmup: eager loading hooks run, garbage is collected once here rather than
      # in every node, so the nodes share more memory copy-on-write.
      def warmup
        @monitor.instrument('app.before_warmup', { caller: self })
        ::Process.respond_to?(:warmup) ? ::Process.warmup : GC.start
      end

      # @return [Symbol] :stop (a signal) or :broken (nodes keep failing to start)
      def supervise
        last_control = now
        loop do
          @nodes.each { |node| start(node) if !@quiet && node.state == :dead && node.restart_at <= now }
          wait_for_activity
          # Signals first: with Ctrl-C the nodes get SIGINT too, and their exits are part of
          # the shutdown, not deaths to restart.
          signal = drain_signals
          if signal
            @logger.info("karafka swarm: #{signal} received, stopping #{@nodes.count(&:alive?)} node(s)")
            return :stop
          end

          reap
          read_reports
          return :broken if broken?

          control
          if now - last_control >= @settings.supervision_interval / 1000.0
            @monitor.instrument('swarm.manager.control', { caller: self })
            last_control = now
          end
        end
      end

      def start(node)
        ForkGuard.prepare!(@logger)
        @monitor.instrument('swarm.manager.before_fork', { caller: self, node: node })
        inherited = [@wake_reader, @wake_writer] + @nodes.flat_map { |other| other.pipes&.supervisor_ends || [] }
        node.start(inherited.reject(&:closed?), now)
        @monitor.instrument('swarm.manager.after_fork', { caller: self, node: node })
        @logger.info("karafka swarm: node #{node.id} started (pid #{node.pid})")
      end

      # Sleeps until a report, a node's exit, a signal or the next deadline.
      def wait_for_activity
        deadlines = @nodes.filter_map { |node| node.next_deadline(@settings.node_report_timeout / 1000.0) }
        timeout = ([@settings.supervision_interval / 1000.0] + deadlines.map { |at| at - now }).min
        readers = [@wake_reader] + @nodes.select { |node| node.alive? && node.pipes.readable? }.map { |node| node.pipes.reports }
        IO.select(readers, nil, nil, [timeout, 0.001].max)
        take_wakes
      end

      def read_reports
        @nodes.select { |node| node.alive? && node.pipes.readable? }.each do |node|
          reports = node.pipes.read_reports
          node.received(reports, now) if reports && !reports.empty?
        end
      end

      # Collects every node that exited and plans its restart.
      def reap
        loop do
          pid, status = ::Process.wait2(-1, ::Process::WNOHANG)
          break unless pid

          node = @nodes.find { |candidate| candidate.pid == pid && candidate.alive? } or next
          # Reports written just before the exit (its error) are still in the pipe.
          tail = node.pipes.readable? ? node.pipes.read_reports : nil
          node.received(tail, now) if tail && !tail.empty?
          was = node.state
          failed_start = node.exited(status, now, @stopping ? nil : @settings.node_restart_timeout / 1000.0)
          log_exit(node, was, failed_start) unless @stopping
        end
      rescue Errno::ECHILD
        nil
      end

      def log_exit(node, was, failed_start)
        delay = (node.restart_at - now).round(1)
        reason = failed_start ? "failed to start (#{node.last_error})" : "exited with #{node.describe}"
        reason = "was stopped (#{node.describe})" if was == :stopping
        @logger.error("karafka swarm: node #{node.id} (pid #{node.pid}) #{reason}; restarting in #{delay} s")
      end

      # A node that fails `max_start_failures` starts in a row: the app cannot run.
      def broken?
        node = @nodes.find { |candidate| candidate.start_failures >= @settings.max_start_failures }
        return false unless node

        @broken = node
        true
      end

      # Silent nodes are stopped (TERM, then KILL after shutdown_timeout); their exit restarts them.
      def control
        timeout = @settings.node_report_timeout / 1000.0
        @nodes.each do |node|
          if node.silent?(now, timeout)
            @logger.error("karafka swarm: node #{node.id} (pid #{node.pid}) sent no report for " \
                          "#{@settings.node_report_timeout} ms (node_report_timeout); stopping it")
            @monitor.instrument('swarm.manager.stopping', { caller: self, node: node, status: -1 })
            node.stop(now + (@config.shutdown_timeout / 1000.0))
          elsif node.state == :stopping && node.kill_at <= now
            kill(node)
          end
        end
      end

      def kill(node)
        @monitor.instrument('swarm.manager.terminating', { caller: self, node: node })
        @logger.error("karafka swarm: node #{node.id} (pid #{node.pid}) still running after " \
                      "shutdown_timeout (#{@config.shutdown_timeout} ms); killing it")
        node.signal('KILL')
      end

      # Stops every node: TERM, up to `shutdown_timeout` for them to exit, then KILL.
      # @return [Integer] exit status
      def shutdown(outcome)
        @stopping = true
        @app.transition(:stopping)
        deadline = now + (@config.shutdown_timeout / 1000.0)
        stopping = @nodes.select(&:alive?)
        stopping.each { |node| node.stop(deadline) }
        killed = []
        while @nodes.any?(&:alive?)
          if now >= deadline
            @nodes.select(&:alive?).each do |node|
              killed << node
              kill(node)
            end
            deadline = Float::INFINITY
          end
          IO.select([@wake_reader], nil, nil, [[deadline - now, 0.001].max, 0.1].min)
          take_wakes
          reap
        end
        @app.transition(:stopped)
        @app.transition(:terminated)
        exit_status(outcome, stopping, killed)
      end

      # @param stopping [Array<Node>] the nodes that were running when the shutdown began
      def exit_status(outcome, stopping, killed)
        if outcome == :broken
          broken = @broken
          @logger.error("karafka swarm: node #{broken.id} failed to start #{broken.start_failures} times in a row; " \
                        "giving up. Last error: #{broken.last_error}")
          warn "karafka swarm: nodes cannot start: #{broken.last_error}"
          return 1
        end
        if outcome == :unsafe
          @logger.error("karafka swarm: #{@failure.class}: #{@failure.message}")
          warn "karafka swarm: #{@failure.class}: #{@failure.message}"
          return 1
        end
        unless killed.empty?
          @logger.error("karafka swarm: #{killed.size} node(s) killed after shutdown_timeout: " \
                        "#{killed.map { |node| "node #{node.id} (pid #{node.pid})" }.join(', ')}")
          return @settings.forceful_exit_code
        end

        failed = stopping.reject { |node| node.exit_status.nil? || node.exit_status.success? }
        unless failed.empty?
          @logger.error('karafka swarm: node(s) did not stop cleanly: ' \
                        "#{failed.map { |node| "node #{node.id}: #{node.describe}" }.join(', ')}")
          return 1
        end
        @logger.info('karafka swarm: every node stopped')
        0
      end

      def now
        ::Process.clock_gettime(::Process::CLOCK_MONOTONIC)
      end
    end
  end
end
