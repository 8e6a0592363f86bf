# frozen_string_literal: true

module Karafka
  class Cli
    # `karafka swarm`: Karafka forks `config.swarm.nodes` server processes; karafka-rs does not
    # supervise forks. Say so and what to run instead rather than silently running one process.
    class Swarm < Base
      USAGE = "Usage: karafka swarm (not supported by karafka-rs: see below)\n"

      # @return [Integer]
      def call(_argv)
        warn 'karafka: swarm mode is not supported by karafka-rs. Run one `karafka server` per node ' \
             '(systemd, Kubernetes replicas, foreman, ...): they share the consumer group and split the ' \
             'partitions, and each already runs `concurrency` workers with the GVL released while it waits.'
        1
      end
    end
  end
end
