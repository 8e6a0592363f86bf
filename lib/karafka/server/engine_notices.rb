# frozen_string_literal: true

module Karafka
  class Server
    # An engine's `:info` and `:error` events, the same wherever an engine runs (the server's
    # engines, the recurring tasks' membership): an info line is logged, an error is published
    # as `error.occurred` with the engine's type (e.g. `consumer.poll`).
    module EngineNotices
      module_function

      # @param monitor [Instrumentation::Monitor]
      # @param event [Native::EngineEvent]
      # @return [Boolean] whether it was one of them
      def publish(monitor, event)
        case event.kind
        when :info then Karafka.logger.info(event.message)
        when :error
          monitor.instrument('error.occurred', { type: event.detail, error: Errors::BaseError.new(event.message) })
        else return false
        end
        true
      end
    end
  end
end
