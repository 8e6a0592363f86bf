# frozen_string_literal: true

require_relative 'base_listener'

module Karafka
  module Instrumentation
    module Vendors
      module Kubernetes
        # Readiness probe (the class name of Karafka's newer ReadinessListener): subscribe it on
        # a port of its own next to {LivenessListener}. It binds on `app.running` (before that a
        # probe gets a refused connection, which Kubernetes counts as not ready), answers 200
        # once the consumer has subscribed and its loop has polled, and 503 while the server
        # boots or drains (`app.stopping` until `app.stopped`, when it stops answering): a
        # stopping pod leaves the Service endpoints before it exits.
        class ReadinessListener < BaseListener
          # @param hostname [String, nil] nil binds on every interface
          # @param port [Integer]
          def initialize(hostname: nil, port: 3000)
            super
            @polled = false
            @stopping = false
          end

          # @param _event [Monitor::Event]
          def on_app_running(_event)
            @stopping = false
            start
          end

          # @param _event [Monitor::Event]
          def on_app_stopping(_event)
            @stopping = true
          end

          # @param _event [Monitor::Event]
          def on_app_stopped(_event)
            stop
          end

          # @param _event [Monitor::Event]
          def on_connection_listener_fetch_loop(_event)
            @polled = true
          end

          # @return [Boolean] subscribed and polling, and not shutting down
          def healthy?
            @polled && !@stopping && Karafka::App.running?
          end

          private

          def failure_status
            503
          end

          def status_body
            ready = healthy?
            { status: ready ? 'healthy' : 'unhealthy', ready: ready, polled: @polled, state: Karafka::App.state,
              timestamp: Time.now.to_i, port: @port, process_id: ::Process.pid }
          end
        end
      end
    end
  end
end
