# frozen_string_literal: true

module Karafka
  module Routing
    # `virtual_partitions(partitioner:, max_partitions:)`: the jobs of one Kafka partition are
    # spread over up to `max_partitions` lanes that run in parallel, each in order. The
    # partitioner sees the message's metadata - never the deserialized job - and its result is
    # reduced to a lane as Karafka does (`value.to_s.sum % max_partitions`).
    class VirtualPartitions
      # What the partitioner is given: the message's metadata.
      Message = Struct.new(:topic, :partition, :offset, :key, :headers, keyword_init: true)

      # @return [#call]
      attr_reader :partitioner
      # @return [Integer, nil] lanes per partition (nil: `concurrency`)
      attr_reader :max_partitions

      # @param partitioner [#call] e.g. `->(job) { job.key }`
      # @param max_partitions [Integer, nil]
      # @param reducer [#call, nil] maps the partitioner's value to a lane number
      def initialize(partitioner:, max_partitions: nil, reducer: nil)
        @partitioner = partitioner
        @max_partitions = max_partitions
        @reducer = reducer
      end

      # @param lanes [Integer]
      # @param held [Native::Unclassified] a message the engine holds back
      # @return [Integer] the lane of that message
      def lane_for(lanes, held)
        message = Message.new(topic: held.topic, partition: held.partition, offset: held.offset,
                              key: held.key&.force_encoding(Encoding::UTF_8),
                              headers: held.headers.transform_values { |v| v.force_encoding(Encoding::UTF_8) })
        value = @partitioner.call(message)
        lane = @reducer ? @reducer.call(value) : value.to_s.sum
        Integer(lane) % lanes
      end
    end
  end
end
