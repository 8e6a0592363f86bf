# frozen_string_literal: true

module Karafka
  module Routing
    # `virtual_partitions(partitioner:, max_partitions:)`: the jobs of one Kafka partition are
    # spread over up to `max_partitions` lanes that run in parallel, each in order. The
    # partitioner sees the message's metadata - never the deserialized job - and its result is
    # reduced to a lane as Karafka does (`value.to_s.sum % max_partitions`).
    class VirtualPartitions
      # What the partitioner is given: the message's metadata. Its payload is not there (the
      # lane is chosen before the job is read): asking for it fails with a reason, which the
      # engine reports (and the message takes lane 0).
      Message = Struct.new(:topic, :partition, :offset, :key, :headers, keyword_init: true) do
        %i[payload raw_payload].each do |name|
          define_method(name) do
            raise Errors::UnsupportedFeatureError,
                  "virtual_partitions partitioner: message.#{name} is not available in karafka-rs, which " \
                  'gives the partitioner the message metadata only (key, headers, topic, partition, offset); ' \
                  'set a key or a header when enqueuing (karafka_options(partitioner:)) and partition by it'
          end
        end

        alias_method :raw_key, :key
        alias_method :raw_headers, :headers
      end

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
