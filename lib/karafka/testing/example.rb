# frozen_string_literal: true

module Karafka
  module Testing
    # What one test produced: `produced_messages` as given to the producer, and the same
    # messages as consumers of their topic will see them. Offsets count from 0 per topic and
    # partition, so the provider_job_id a job gets at enqueue (`topic/partition/offset`) is
    # the one it sees when it runs.
    class Example
      # A produced message and the consumer group `produce_to` aimed it at (nil: every group).
      Delivery = Struct.new(:message, :consumer_group)
      private_constant :Delivery

      # @return [Array<ProducedMessage>] in production order
      attr_reader :produced_messages
      # @return [Array<Consumer>] built with `consumer_for` in this test, oldest first
      attr_reader :consumers

      def initialize
        @produced_messages = []
        @deliveries = []
        @consumers = []
        @next_offsets = Hash.new(0)
        @overrides = nil
        # Jobs and app code may produce from other threads.
        @mutex = Mutex.new
      end

      # Runs the block (a produce call) with `karafka.produce`'s extras for its message.
      # @param offset [Integer, nil] the offset consumers see, instead of the next one
      # @param consumer_group [String, nil] deliver to that group's consumers only
      def with_delivery(offset:, consumer_group:)
        @overrides = { thread: Thread.current, offset: offset, consumer_group: consumer_group }
        yield
      ensure
        @overrides = nil
      end

      # @param message [Hash] as given to the producer
      # @param row [Karafka::Native::OutgoingMessage] the message validated by
      #   `Karafka::Producer::Message.to_row`
      # @return [Karafka::Producer::DeliveryReport]
      def record(message, row)
        topic = row.topic
        partition = row.partition || 0
        @mutex.synchronize do
          extras = @overrides && @overrides[:thread] == Thread.current ? @overrides : {}
          offset = extras[:offset] || @next_offsets[[topic, partition]]
          @next_offsets[[topic, partition]] = [@next_offsets[[topic, partition]], offset + 1].max
          @produced_messages << ProducedMessage[message]
          timestamp = row.timestamp ? Time.at(Rational(row.timestamp, 1000)) : Time.now
          consumed = Message.new(raw_payload: row.payload, key: row.key, headers: row.headers.to_h, offset: offset,
                                 partition: partition, topic: topic, timestamp: timestamp)
          @deliveries << Delivery.new(consumed, extras[:consumer_group])
          Karafka::Producer::DeliveryReport.new(topic: topic, partition: partition, offset: offset, label: message[:label])
        end
      end

      # @param topic [String]
      # @param consumer_group [String]
      # @return [Array<Message>] what a consumer of `topic` in `consumer_group` receives
      def messages_for(topic, consumer_group)
        @mutex.synchronize do
          @deliveries.select do |delivery|
            delivery.message.topic == topic &&
              (delivery.consumer_group.nil? || delivery.consumer_group == consumer_group)
          end.map(&:message)
        end
      end
    end
  end
end
