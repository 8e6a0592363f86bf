# frozen_string_literal: true

module Karafka
  class Cli
    # `karafka swarm [filters]`: boots the app once, then a supervisor forks
    # `config.swarm.nodes` nodes, each running `karafka server`'s work (README, Swarm). Takes
    # `karafka server`'s topic / consumer group / subscription group filters.
    class Swarm < Server
      USAGE = Server::USAGE.sub('Usage: karafka server [options]   (aliases: s, consumer)',
                                'Usage: karafka swarm [options]    (config.swarm.nodes processes)')

      # @param argv [Array<String>]
      # @return [Integer] exit status
      def call(argv)
        filter = parse_filter(argv)
        $stdout.sync = true
        boot
        apply(filter)
        require_relative '../swarm/supervisor'
        Karafka::Server.execution_mode.supervisor!
        Karafka::Swarm::Supervisor.new.run
      end

      private

      def command_name
        'swarm'
      end
    end
  end
end
