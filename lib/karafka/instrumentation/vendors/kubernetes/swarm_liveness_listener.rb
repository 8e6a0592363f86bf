# frozen_string_literal: true

require_relative 'base_listener'

module Karafka
  module Instrumentation
    module Vendors
      module Kubernetes
        # Karafka's liveness probe for `karafka swarm`: subscribed in the supervisor (karafka.rb
        # is loaded there before the fork), it binds when the supervisor starts supervising
        # (`app.supervising`) and answers 200 while the supervisor keeps controlling its nodes
        # (`swarm.manager.control`, Karafka's supervision tick) at least every
        # `controlling_ttl`, 500 otherwise. The nodes themselves are the supervisor's to watch,
        # not Kubernetes'. Standalone (no swarm), it can be started by calling the two hooks
        # from whatever loop supervises the work.
        class SwarmLivenessListener < BaseListener
          # @param hostname [String, nil] nil binds on every interface
          # @param port [Integer]
          # @param controlling_ttl [Integer] ms the supervisor may go without a control round
          def initialize(hostname: nil, port: 3000, controlling_ttl: 60 * 1_000)
            super(hostname: hostname, port: port)
            @controlling_ttl = controlling_ttl
            @controlling = monotonic_now
          end

          # @param _event [Monitor::Event]
          def on_app_supervising(_event)
            @controlling = monotonic_now
            start
          end

          # @param _event [Monitor::Event]
          def on_swarm_manager_control(_event)
            @controlling = monotonic_now
          end

          # @param _event [Monitor::Event]
          def on_app_stopped(_event)
            stop
          end

          # @return [Boolean]
          def healthy?
            monotonic_now - @controlling < @controlling_ttl
          end

          private

          def status_body
            healthy = healthy?
            { status: healthy ? 'healthy' : 'unhealthy', timestamp: Time.now.to_i, port: @port,
              process_id: ::Process.pid, errors: { controlling_ttl_exceeded: !healthy } }
          end
        end
      end
    end
  end
end
