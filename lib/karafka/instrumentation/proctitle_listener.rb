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

      def setproctitle(state, suffix = nil)
        ::Process.setproctitle("karafka #{Karafka::App.config.client_id} (#{state})#{suffix}")
      end
    end
  end
end
