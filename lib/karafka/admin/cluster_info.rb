# frozen_string_literal: true

module Karafka
  class Admin
    # What `Karafka::Admin.cluster_info` returns: like rdkafka-ruby's metadata, `brokers`
    # (`{ broker_id:, broker_name:, broker_port: }`) and `topics` (`{ topic_name:,
    # partition_count:, partitions: [{ partition_id:, leader:, replica_count:, replicas:,
    # in_sync_replica_brokers:, isrs: }] }`).
    ClusterInfo = Struct.new(:brokers, :topics, keyword_init: true) do
      # @param native [Array] `[[[id, host, port], ...], [[topic, [[id, leader, replicas, isrs], ...]], ...]]`
      # @return [ClusterInfo]
      def self.from_native(native)
        brokers, topics = native
        new(
          brokers: brokers.map { |id, host, port| { broker_id: id, broker_name: host, broker_port: port } },
          topics: topics.map do |name, partitions|
            { topic_name: name, partition_count: partitions.size,
              partitions: partitions.map do |id, leader, replicas, isrs|
                { partition_id: id, leader: leader, replica_count: replicas.size, replicas: replicas,
                  in_sync_replica_brokers: isrs.size, isrs: isrs }
              end }
          end
        )
      end
    end
  end
end
