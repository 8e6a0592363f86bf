# frozen_string_literal: true

module Karafka
  module Testing
    # The `karafka` object of RSpec examples (`@karafka` in Minitest): karafka-testing's
    # `consumer_for`, `produce`, `produce_to`, `produced_messages` and `consumer_messages`.
    class Proxy
      # @param example [Example] the test's buffer
      # @param context [Object] the RSpec example or Minitest test, whose `consumer` (RSpec
      #   `subject(:consumer)`) or `@consumer` (Minitest) `produce` targets by default
      def initialize(example, context)
        @example = example
        @context = context
      end

      # @param topic [String, Symbol] a routed topic
      # @param positional_group [String, Symbol, nil] karafka-testing's positional form
      # @param consumer_group [String, Symbol, nil] when the topic is routed in several groups
      # @return [Consumer]
      # @raise [Errors::TopicNotFoundError] when `Karafka::App.routes` does not route the topic
      def consumer_for(topic, positional_group = nil, consumer_group: positional_group)
        route, group = TopicLookup.find(topic, consumer_group)
        consumer = Consumer.new(@example, route, group)
        @example.consumers << consumer
        consumer
      end

      # Produces `payload` through the test's producer (so it is in {produced_messages}) to
      # `topic:`, or to the test's consumer's topic, for that topic's consumers.
      # @param payload [String]
      # @param metadata [Hash] `topic:`, `key:`, `partition_key:`, `partition:`, `headers:`, and
      #   `offset:` (the offset consumers see)
      # @return [Karafka::Producer::DeliveryReport]
      def produce(payload, metadata = {})
        metadata = metadata.transform_keys(&:to_sym)
        offset = metadata.delete(:offset)
        group = metadata.delete(:consumer_group)
        topic = metadata.delete(:topic) || default_consumer&.topic&.name
        unless topic
          raise ArgumentError, 'karafka.produce needs topic: or a consumer built with karafka.consumer_for in this test'
        end

        @example.with_delivery(offset: offset, consumer_group: group&.to_s) do
          # Not `Karafka.producer`: outside a test that is the real one (this raises instead).
          Testing.producer.produce_sync({ topic: topic.to_s, payload: payload }.merge(metadata))
        end
      end

      # Produces to one consumer only (its topic is routed in several consumer groups).
      # @param consumer [Consumer]
      # @param payload [String]
      # @param metadata [Hash] as for {produce}
      def produce_to(consumer, payload, metadata = {})
        produce(payload, metadata.merge(topic: consumer.topic.name, consumer_group: consumer.consumer_group_name))
      end

      # @return [Array<ProducedMessage>] every message produced in this test, in order
      def produced_messages
        @example.produced_messages
      end

      # @return [Array<Message>] the messages the test's consumer will consume
      def consumer_messages
        default_consumer&.messages.to_a
      end

      private

      # karafka-testing's rule: the example's `consumer`, else the last consumer built.
      def default_consumer
        if @context.respond_to?(:consumer)
          consumer = @context.consumer
          return consumer if consumer.is_a?(Consumer)
        end
        if @context.instance_variable_defined?(:@consumer)
          consumer = @context.instance_variable_get(:@consumer)
          return consumer if consumer.is_a?(Consumer)
        end
        @example.consumers.last
      end
    end
  end
end
