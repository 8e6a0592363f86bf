# frozen_string_literal: true

module Karafka
  class Server
    # An engine's `:info` and `:error` events, the same wherever an engine runs (the server's
    # engines, the recurring tasks' membership): an info line is logged, an error is published
    # as `error.occurred` with the engine's type (Karafka's `librdkafka.error` and
    # `connection.client.poll.error` for what the consumer client reported, then with an
    # {Errors::ClientError} carrying librdkafka's code; karafka-rs' own, e.g.
    # `consumer.commit`, otherwise).
    module EngineNotices
      module_function

      # @param monitor [Instrumentation::Monitor]
      # @param event [Native::EngineEvent]
      # @param group_id [String, nil] the engine's consumer group (Karafka's
      #   `consumer_group_id` and `subscription_group_id` of the event)
      # @return [Boolean] whether it was one of them
      def publish(monitor, event, group_id = nil)
        case event.kind
        when :info then Karafka.logger.info(event.message)
        when :error
          error = event.code ? Errors::ClientError.new(event.message, code: event.code) : Errors::BaseError.new(event.message)
          payload = { type: event.detail, error: error }
          payload.merge!(consumer_group_id: group_id, subscription_group_id: group_id) if group_id
          monitor.instrument('error.occurred', payload)
        else return false
        end
        true
      end
    end
  end
end
