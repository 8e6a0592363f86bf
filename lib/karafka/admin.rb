# frozen_string_literal: true

module Karafka
  # Topic administration and offset inspection against the configured cluster (Karafka's
  # `Karafka::Admin` subset). Every call blocks with the GVL released.
  module Admin
    class << self
      # @param name [String]
      # @param partitions [Integer]
      # @param _replication_factor [Integer] single-broker setups use 1
      # @return [Boolean] false when the topic already existed
      def create_topic(name, partitions, _replication_factor = 1)
        Native::Admin._create_topic(kafka, name.to_s, partitions)
      end

      # @return [Boolean] false when the topic did not exist
      def delete_topic(name)
        Native::Admin._delete_topic(kafka, name.to_s)
      end

      # @return [Hash{String => Integer}] topic name => partition count
      def topics
        Native::Admin._topics(kafka)
      end

      # @return [Array(Integer, Integer)] low and high watermark offsets
      def watermark_offsets(topic, partition)
        Native::Admin._watermarks(kafka, topic.to_s, partition)
      end

      # @param group [String] consumer group id
      # @param topic [String]
      # @return [Hash{Integer => Integer}] partition => next offset to consume (-1: none)
      def committed_offsets(group, topic)
        Native::Admin._committed(kafka, group.to_s, topic.to_s).to_h
      end

      # Reads messages of one partition (no consumer group; nothing is committed).
      # @param topic [String]
      # @param partition [Integer]
      # @param count [Integer] at most this many
      # @param offset [Integer] first offset to read
      # @param timeout_ms [Integer] how long to wait for `count` messages
      # @return [Array<Hash>] `{ offset:, key:, payload:, headers: }` (strings are binary)
      def read_topic(topic, partition, count, offset = 0, timeout_ms: 10_000)
        Native::Admin._read(kafka, topic.to_s, partition, offset, count, timeout_ms).map do |o, key, payload, headers|
          { offset: o, key: key, payload: payload, headers: headers }
        end
      end

      private

      def kafka
        App.config.kafka_pairs
      end
    end
  end
end
