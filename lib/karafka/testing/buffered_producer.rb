# frozen_string_literal: true

module Karafka
  module Testing
    # `Karafka.producer` inside a test: the real producer's API and message checks (an
    # invalid message raises `Karafka::Errors::MessageInvalidError` as it would in
    # production), but messages go to the running test's buffer, never to Kafka. No
    # librdkafka handle is created, so nothing connects to a broker.
    class BufferedProducer
      # @return [Instrumentation::Monitor] producer events (`message.produced_sync`, ...)
      attr_reader :monitor

      def initialize
        @monitor = Instrumentation::Monitor.new
      end

      # @return [String] as a producer's (WaterDrop's `producer_id` in its events)
      def id
        @id ||= SecureRandom.uuid
      end

      # @return [Hash] the app's librdkafka settings (unused: nothing is sent)
      def kafka
        App.config.kafka
      end

      # @param message [Hash]
      # @return [Karafka::Producer::DeliveryReport]
      def produce_sync(message)
        produce_many_sync([message]).first
      end

      # @param message [Hash]
      # @return [Karafka::Producer::DeliveryHandle::Done]
      def produce_async(message)
        produce_many_async([message]).first
      end

      # @param messages [Array<Hash>]
      # @return [Array<Karafka::Producer::DeliveryReport>]
      def produce_many_sync(messages)
        instrument(messages.size == 1 ? 'message.produced_sync' : 'messages.produced_sync', messages) do
          record(messages)
        end
      end

      # @param messages [Array<Hash>]
      # @return [Array<Karafka::Producer::DeliveryHandle::Done>] handles whose `wait` returns at once
      def produce_many_async(messages)
        instrument(messages.size == 1 ? 'message.produced_async' : 'messages.produced_async', messages) do
          record(messages).map { |report| Karafka::Producer::DeliveryHandle::Done.new(report) }
        end
      end

      # Variants buffer like the producer they come from (their settings would only change
      # how Kafka is talked to).
      # @param topic_config [Hash]
      # @param max_wait_timeout [Integer, nil] (no wait: nothing is sent)
      # @return [BufferedProducer] self
      def with(topic_config: {}, max_wait_timeout: nil) # rubocop:disable Lint/UnusedMethodArgument
        # The real variant merges topic_config into its settings: a non-Hash fails there too.
        raise TypeError, "topic_config must be a Hash, got #{topic_config.class}" unless topic_config.is_a?(Hash)

        self
      end
      alias variant with

      # Nothing is pending: every message is buffered when produced.
      # @return [Boolean] true
      def flush(_timeout_ms = nil)
        true
      end

      # @return [Boolean] true
      def close(_timeout_ms = nil)
        true
      end

      private

      # Every message is checked before the first is buffered, as the real producer does.
      def record(messages)
        unless Testing.current
          raise Errors::BaseError, 'the testing producer buffers only while a test runs (used after it ended?)'
        end

        rows = messages.map { |message| Karafka::Producer::Message.to_row(message) }
        messages.zip(rows).map { |message, row| Testing.current.record(message, row) }
      end

      def instrument(name, messages, &block)
        return yield unless @monitor.listening?(name)

        payload = messages.size == 1 ? { message: messages.first } : { messages: messages }
        @monitor.instrument(name, { producer_id: id, **payload }, &block)
      end
    end
  end
end
