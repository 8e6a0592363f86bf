# frozen_string_literal: true

require 'json'
require_relative '../http_server'

module Karafka
  module Instrumentation
    module Vendors
      # Listeners answering Kubernetes' HTTP probes (Karafka's namespace and class names).
      module Kubernetes
        # Shared by the probe listeners: binds its HTTP server when {#start} is called (on
        # `app.running`, as Karafka does, so a rails console that loads karafka.rb never binds),
        # and answers every path with {#status_body} as JSON: 200 when {#healthy?}, otherwise
        # {#failure_status} (500).
        class BaseListener
          # @param hostname [String, nil] nil binds on every interface
          # @param port [Integer]
          def initialize(hostname: nil, port: 3000)
            @hostname = hostname
            @port = port
          end

          # @return [Boolean]
          def healthy?
            raise NotImplementedError, "#{self.class} must implement #healthy?"
          end

          private

          def start
            @http = HttpServer.new(@hostname, @port) { |path| respond(path) }.start
          end

          def stop
            @http&.stop
          end

          # @return [Array(Integer, String, String)]
          def respond(_path)
            body = status_body
            [body[:status] == 'healthy' ? 200 : failure_status, 'application/json', JSON.generate(body)]
          end

          # @return [Integer] the HTTP status when not healthy
          def failure_status
            500
          end

          # @return [Hash]
          def status_body
            { status: healthy? ? 'healthy' : 'unhealthy', timestamp: Time.now.to_i, port: @port,
              process_id: ::Process.pid }
          end

          def monotonic_now
            ::Process.clock_gettime(::Process::CLOCK_MONOTONIC, :millisecond)
          end
        end
      end
    end
  end
end
