# frozen_string_literal: true

require 'etc'

module Karafka
  module Setup
    # `config.swarm.*`: what `karafka swarm` forks (lib/karafka/swarm/).
    #
    # Defaults are lazy (no `initialize`), so this file can sit next to other definitions of
    # the nested settings without one constructor replacing the other's.
    class SwarmConfig
      # @param value [Integer] processes `karafka swarm` forks
      attr_writer :nodes
      # @param value [false, Swarm::NodeProcess] set inside a forked node
      attr_writer :node

      # @return [Integer] processes `karafka swarm` forks; default: the number of CPUs
      #   (Karafka's default is 3; its docs advise one node per core)
      def nodes
        @nodes ||= Etc.nprocessors
      end

      # @return [false, Swarm::NodeProcess] false in every process but a forked node, where it
      #   is the node (`config.swarm.node.id` is its index, 0...nodes)
      def node
        @node || false
      end
    end

    # `config.internal.swarm.*`: Karafka's supervision settings (milliseconds), with Karafka's
    # names and defaults. `max_start_failures` is karafka-rs' own.
    class InternalSwarmConfig
      DEFAULTS = {
        # How often a node reports that it is alive.
        liveness_interval: 10_000,
        # A node that has not reported for this long is stopped (TERM, then KILL after
        # `shutdown_timeout`) and started again.
        node_report_timeout: 60_000,
        # Wait before a dead node is started again (doubled for each failed start in a row).
        node_restart_timeout: 5_000,
        # Longest wait of the supervisor between two checks of its nodes.
        supervision_interval: 30_000,
        # Exit status of a node whose supervisor died (it stops gracefully first).
        orphaned_exit_code: 3,
        # Exit status of the supervisor when nodes had to be killed at shutdown.
        forceful_exit_code: 2,
        # Failed starts in a row (a node that exits before it runs) after which the supervisor
        # gives up and exits 1: the app is broken, restarting it forever would hide that.
        max_start_failures: 3
      }.freeze

      DEFAULTS.each do |name, default|
        attr_writer name

        define_method(name) do
          value = instance_variable_get(:"@#{name}")
          value.nil? ? default : value
        end
      end

      # Karafka's other internal swarm settings (`manager`, `liveness_listener`, the pidfd
      # syscalls) replace parts karafka-rs implements differently: an error naming them.
      def method_missing(name, *args)
        return super if name.to_s.end_with?('?', '!') || name.to_s.start_with?('to_')

        raise Errors::UnsupportedFeatureError,
              "config.internal.swarm.#{name.to_s.delete_suffix('=')} is not a karafka-rs setting; " \
              "known: #{DEFAULTS.keys.join(', ')}"
      end

      def respond_to_missing?(_name, _include_private = false)
        false
      end
    end

    # `config.internal`: only its `swarm` part is defined here.
    class InternalConfig
      # @return [InternalSwarmConfig]
      def swarm
        @swarm ||= InternalSwarmConfig.new
      end
    end
  end
end
