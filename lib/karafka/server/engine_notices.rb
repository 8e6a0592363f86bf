# frozen_string_literal: true

module Karafka
  class Server
    # An engine's `:info` and `:error` events, the same wherever an engine runs (the server's
    # engines, the recurring tasks' membership): an info line is logged, an error is published
    # as `error.occurred` with the engine's type (e.g. `consumer.poll`).
    module EngineNotices
      module_function

      # @param monitor [Instrumentation::Monitor]
      # @param kind [Symbol] the event's kind
      # @param detail [String, nil] an error's type
      # @param message [String]
      # @return [Boolean] whether it was one of them
      def publish(monitor, kind, detail, message)
        case kind
        when :info then Karafka.logger.info(message)
        when :error then monitor.instrument('error.occurred', { type: detail, error: Errors::BaseError.new(message) })
        else return false
        end
        true
      end
    end
  end
end
