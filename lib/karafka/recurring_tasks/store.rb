# frozen_string_literal: true

module Karafka
  module RecurringTasks
    # Reads and writes the state topic (one partition). Reads go through `Karafka::Admin`
    # (no consumer group, nothing committed); writes are `produce_sync`, so a record is on
    # the broker before anything that depends on it happens.
    class Store
      PARTITION = 0
      # Records read per Admin call while catching up.
      BATCH = 1_000

      # @param topic [String]
      def initialize(topic)
        @topic = topic
      end

      # @return [String]
      attr_reader :topic

      # Applies every record the partition holds now that `state` has not seen.
      # @param state [State]
      # @return [State]
      def read_to_end(state)
        _, high = Admin.read_watermark_offsets(@topic, PARTITION)
        while state.next_offset < high
          first = state.next_offset
          count = [high - first, BATCH].min
          Admin.read_topic(@topic, PARTITION, count, first).each do |message|
            state.apply(message.offset, message.raw_key, message.raw_payload)
          end
          # Offsets compaction removed hold nothing to apply.
          state.advance_to(first + count)
        end
        state
      end

      # @param key [String]
      # @param record [Hash]
      # @return [Integer] the record's offset
      def write(key, record)
        report = Karafka.producer.produce_sync(topic: @topic, partition: PARTITION, key: key,
                                               payload: JSON.generate(record))
        report.respond_to?(:offset) ? report.offset : nil
      end
    end
  end
end
