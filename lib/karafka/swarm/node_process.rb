# frozen_string_literal: true

require 'socket'

module Karafka
  module Swarm
    # What runs in a forked node: undoes what the fork copied from the supervisor, then runs
    # `Karafka::Server` (which creates the node's own engine, producer and threads) and exits
    # with its outcome. `config.swarm.node` is this object inside the node.
    class NodeProcess
      # @return [Integer] the node's index, 0...config.swarm.nodes
      attr_reader :id

      # @param id [Integer]
      # @param pipes [Pipes] this node's pipes
      # @param inherited [Array<IO>] the supervisor's ends of every node's pipes and its own
      #   signal pipe: the node must not hold them (a supervisor's death, or another node's,
      #   shows as end-of-file only when nobody else holds the write end)
      def initialize(id, pipes, inherited)
        @id = id
        @pipes = pipes
        @inherited = inherited
        @app = App
        @config = App.config
        @orphaned = false
      end

      # @return [Boolean] whether the supervisor is gone
      def orphaned?
        @orphaned
      end

      # Never returns: the node exits with 0 after a clean stop, 1 after an error, and
      # `orphaned_exit_code` when it stopped because its supervisor died.
      def run
        code = 1
        begin
          Server.execution_mode.swarm!
          server = Server.new(@app)
          detach_from_supervisor(server)
          adopt_node_settings
          @reporter = Reporter.new(@pipes, @config.internal.swarm.liveness_interval / 1000.0, lambda {
            @orphaned = true
            server.request_stop(:orphaned)
          }).start
          Karafka.monitor.subscribe('app.running') { |_event| @reporter.running! }
          Karafka.monitor.instrument('swarm.node.after_fork', { caller: self })
          ok = server.run
          code = if orphaned? then @config.internal.swarm.orphaned_exit_code
                 else ok ? 0 : 1
                 end
        rescue Exception => e # rubocop:disable Lint/RescueException -- a node reports whatever stops it
          @reporter&.error!(e) || @pipes.write_report('status' => 'error', 'error' => "#{e.class}: #{e.message}")
          Karafka.logger.error("karafka swarm node #{id}: #{e.class}: #{e.message}")
          code = 1
        end
        exit(code)
      end

      # @return [String] `group.instance.id` of this node (static membership): the app's own
      #   value with `_<node>` appended, else `<client_id>-<hostname>-<node>-<topics tag>` (the
      #   tag changes with the routes, see Server::StaticMembership)
      def group_instance_id
        kafka = @config.kafka
        base = kafka[:'group.instance.id'] || kafka['group.instance.id']
        return "#{base}_#{id}" if base

        routes = @app.routes
        topics = routes.active_topics.map(&:name) + routes.active_schedule_topics
        "#{@config.client_id}-#{Socket.gethostname}-#{id}-#{Server::StaticMembership.topics_tag(topics)}"
      end

      private

      # The supervisor's signal handlers and pipe ends came with the fork. A signal that
      # arrives before the server runs is kept for it (Karafka::Server traps the same signals
      # when it starts, and stops at once when a stop was requested before).
      def detach_from_supervisor(server)
        Server::TRAPPED.each { |signal| trap(signal) { server.request_stop(signal) } }
        trap('CHLD', 'DEFAULT')
        @inherited.each { |io| io.close unless io.closed? }
        ::Process.setproctitle("karafka##{@config.client_id} node #{id}")
      end

      def adopt_node_settings
        @config.swarm.node = self
        # Same id across restarts of this node: a restarted node takes its partitions back
        # without a rebalance of the whole group (README, Swarm).
        @config.kafka = @config.kafka.reject { |key, _| key.to_s == 'group.instance.id' }
                                     .merge('group.instance.id': group_instance_id)
        rebuild_configured_producer
      end

      # `Karafka.producer` builds a new producer in a new process by itself; a producer the app
      # set as `config.producer` was closed in the supervisor (ForkGuard), so the node gets a
      # fresh one with the same settings (subscribers of `swarm.node.after_fork` may replace it).
      def rebuild_configured_producer
        return unless @config.respond_to?(:producer)

        old = @config.producer
        return unless old.is_a?(Karafka::Producer)

        @config.producer = Karafka::Producer.new(kafka: old.kafka, monitor: old.monitor)
      end
    end
  end
end
