# frozen_string_literal: true

module Karafka
  # Topic administration and offset inspection against the configured cluster (Karafka's
  # `Karafka::Admin` subset). Every call blocks with the GVL released.
  module Admin
    class << self
      # @param name [String]
      # @param partitions [Integer]
      # @param replication_factor [Integer]
      # @param topic_config [Hash] topic-level settings, e.g. `{ 'retention.ms': 86_400_000 }`
      # @return [Boolean] false when the topic already existed (its settings are left alone)
      def create_topic(name, partitions, replication_factor = 1, topic_config = {})
        config = topic_config.map { |key, value| [key.to_s, value.to_s] }
        Native::Admin._create_topic(kafka, name.to_s, partitions, replication_factor, config)
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
      # @return [Array<Hash>] `{ offset:, timestamp:, key:, payload:, headers: }` (strings are
      #   binary; `timestamp` is a Time: when produced, or when the broker stored the message
      #   on topics with `message.timestamp.type: LogAppendTime`)
      def read_topic(topic, partition, count, offset = 0, timeout_ms: 10_000)
        Native::Admin._read(kafka, topic.to_s, partition, offset, count, timeout_ms).map do |o, ms, key, payload, headers|
          { offset: o, timestamp: ms && Time.at(ms / 1000r), key: key, payload: payload, headers: headers }
        end
      end

      private

      def kafka
        App.config.kafka_pairs
      end
    end
  end
end
