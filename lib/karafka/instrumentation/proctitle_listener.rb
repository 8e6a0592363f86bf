# frozen_string_literal: true

module Karafka
  module Instrumentation
    # Karafka's process title: `karafka <client_id> (<state>)`, plus `busy N/M` (jobs running
    # of `concurrency`) while the server runs, refreshed every second from
    # `connection.listener.fetch_loop`, never per job, so `ps` shows what each process does.
    # `karafka server` subscribes one unless karafka.rb already did.
    class ProctitleListener
      App::STATES.each do |state|
        define_method(:"on_app_#{state}") { |_event| setproctitle(state.to_s) }
      end

      # @param event [Monitor::Event]
      def on_connection_listener_fetch_loop(event)
        queue = event[:jobs_queue] or return
        return unless Karafka::App.running?

        setproctitle('running', " busy #{queue.statistics[:busy]}/#{Karafka::App.config.concurrency}")
      end

      private

      # In a `karafka swarm` node the title keeps the node's name (`karafka#<client_id> node N`)
      # that `ps` and the supervisor's logs use.
      def setproctitle(state, suffix = nil)
        config = Karafka::App.config
        node = config.swarm.node
        name = node ? "karafka##{config.client_id} node #{node.id}" : "karafka #{config.client_id}"
        ::Process.setproctitle("#{name} (#{state})#{suffix}")
      end
    end
  end
end
