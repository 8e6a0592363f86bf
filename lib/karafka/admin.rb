# frozen_string_literal: true

require_relative 'messages/message'
require_relative 'admin/polling'
require_relative 'admin/cluster_info'
require_relative 'admin/consumer_groups'
require_relative 'admin/configs'

module Karafka
  # Karafka's `Karafka::Admin`: topics, offsets and consumer groups of the configured cluster.
  # Every call blocks with the GVL released. Class methods use `config.kafka`;
  # `Karafka::Admin.new(kafka: { ... })` targets another cluster (its settings are merged
  # over `config.kafka`), as in Karafka.
  class Admin
    include ConsumerGroups

    # How long a snapshot `read_topic` may take to read what the partition held when it began.
    READ_TIMEOUT_MS = 30_000

    # @param kafka [Hash] librdkafka settings merged over `config.kafka`
    def initialize(kafka: {})
      @custom_kafka = kafka
    end

    # @param name [String]
    # @param partitions [Integer]
    # @param replication_factor [Integer]
    # @param topic_config [Hash] topic-level settings, e.g. `{ 'retention.ms': 86_400_000 }`
    # @return [true]
    # @raise [Errors::AdminError] (a `Rdkafka::RdkafkaError`) with code `:topic_already_exists`
    #   when the topic exists, as Karafka's does (its settings are left alone)
    def create_topic(name, partitions, replication_factor = 1, topic_config = {})
      return true if create_topic_unless_exists(name, partitions, replication_factor, topic_config)

      raise Errors::AdminError.new("Broker: Topic already exists (topic_already_exists): #{name}",
                                   code: :topic_already_exists)
    end

    # karafka-rs: {#create_topic} without the error for a topic that exists.
    # @return [Boolean] false when the topic already existed (its settings are left alone)
    def create_topic_unless_exists(name, partitions, replication_factor = 1, topic_config = {})
      config = topic_config.map { |key, value| [key.to_s, value.to_s] }
      created = Native::Admin._create_topic(kafka, name.to_s, partitions, replication_factor, config)
      created && until_metadata_shows("the topic #{name}") { topics.key?(name.to_s) }
      created
    end

    # @return [Boolean] false when the topic did not exist
    def delete_topic(name)
      deleted = Native::Admin._delete_topic(kafka, name.to_s)
      deleted && until_metadata_shows("no topic #{name}") { !topics.key?(name.to_s) }
      deleted
    end

    # Adds partitions until the topic has `partitions` (Kafka never removes any).
    # @param name [String]
    # @param partitions [Integer] the total wanted
    # @return [true]
    # @raise [Errors::AdminError] e.g. when the topic already has that many or more
    def create_partitions(name, partitions)
      Native::Admin._create_partitions(kafka, name.to_s, Integer(partitions))
      until_metadata_shows("#{partitions} partitions of #{name}") { topics.fetch(name.to_s, 0) >= Integer(partitions) }
    end

    # Reads messages of one partition without a consumer group (nothing is committed).
    #
    # As in Karafka, `start_offset` -1 (the default) reads the last `count` messages, -N the
    # `count` messages ending N - 1 before the last one, a Time the first `count` messages
    # stored at or after it; the read stops at the end of what the partition holds.
    # `timeout_ms:` (karafka-rs) waits up to that long for `count` messages, including ones
    # produced after the call began (specs and scripts waiting for messages to arrive).
    # @param name [String]
    # @param partition [Integer]
    # @param count [Integer]
    # @param start_offset [Integer, Time]
    # @param settings [Hash] librdkafka settings for this read
    # @param timeout_ms [Integer, nil]
    # @return [Array<Messages::Message>]
    def read_topic(name, partition, count, start_offset = -1, settings = {}, timeout_ms: nil)
      name = name.to_s
      pairs = kafka(settings)
      low, high = Native::Admin._watermarks(pairs, name, partition)
      start_offset = offset_at(name, partition, start_offset) if start_offset.is_a?(Time)
      start = start_offset.negative? ? high - count - start_offset.abs + 1 : start_offset
      start = low if start.negative?
      if timeout_ms
        rows = Native::Admin._read(pairs, name, partition, [start, low].max, count, nil, timeout_ms)
      else
        # Karafka's range: `count` offsets from `start`, of those the partition holds now.
        first = [start, low].max
        stop = [start + count, high].min
        return [] if first >= stop

        rows = Native::Admin._read(pairs, name, partition, first, stop - first, stop, READ_TIMEOUT_MS)
      end
      build_messages(name, partition, rows)
    end

    # @overload read_watermark_offsets(name, partition)
    #   @return [Array(Integer, Integer)] low and high watermark offsets
    # @overload read_watermark_offsets(topics_with_partitions)
    #   @param topics_with_partitions [Hash{String => Array<Integer>}]
    #   @return [Hash{String => Hash{Integer => Array(Integer, Integer)}}]
    def read_watermark_offsets(name_or_hash, partition = nil)
      return Native::Admin._watermarks(kafka, name_or_hash.to_s, partition) unless name_or_hash.is_a?(Hash)

      name_or_hash.to_h do |name, partitions|
        [name, Array(partitions).to_h { |p| [p, Native::Admin._watermarks(kafka, name.to_s, p)] }]
      end
    end

    # @return [Array(Integer, Integer)] karafka-rs' name for {#read_watermark_offsets}
    def watermark_offsets(topic, partition)
      read_watermark_offsets(topic, partition)
    end

    # @return [Hash{String => Integer}] topic name => partition count (karafka-rs)
    def topics
      Native::Admin._topics(kafka)
    end

    # @param group [String] consumer group id
    # @param topic [String]
    # @return [Hash{Integer => Integer}] partition => next offset to consume (-1: none) (karafka-rs)
    def committed_offsets(group, topic)
      retrying_coordinator_moves { Native::Admin._committed(kafka, group.to_s, topic.to_s).to_h }
    end

    # @return [ClusterInfo] `brokers` and `topics`, as Karafka's (`topic[:topic_name]`, ...)
    def cluster_info
      ClusterInfo.from_native(Native::Admin._cluster_info(kafka, nil))
    end

    # @param topic_name [String]
    # @return [Hash] `{ topic_name:, partition_count:, partitions: [...] }`
    # @raise [Errors::AdminError] when the topic does not exist
    def topic_info(topic_name)
      info = ClusterInfo.from_native(Native::Admin._cluster_info(kafka, topic_name.to_s))
      info.topics.find { |topic| topic[:topic_name] == topic_name.to_s } ||
        raise(Errors::AdminError, "unknown topic or partition: #{topic_name}")
    end

    # @api private (`karafka topics`): every setting of a topic as the broker reports it
    # @return [Hash{String => Hash}] name => `{ value:, default:, read_only:, sensitive: }`
    def topic_config(name)
      Native::Admin._describe_config(kafka, name.to_s, false).to_h do |entry|
        [entry.name, { value: entry.value, default: entry.default, read_only: entry.read_only, sensitive: entry.sensitive }]
      end
    end

    # @api private (`karafka topics align`): sets `changes`, keeping the topic's other settings
    # @param changes [Hash{String => String}]
    def alter_topic_config(name, changes)
      Configs.alter_topic_config(kafka, name.to_s, changes.to_h { |key, value| [key.to_s, value.to_s] }, [])
    end

    # Karafka's no-op: every call here opens and closes its own client.
    # @return [nil]
    def close
      nil
    end

    # Karafka's Replication API plans a reassignment JSON for kafka-reassign-partitions.sh.
    # @raise [Errors::UnsupportedFeatureError]
    def plan_topic_replication(topic:, replication_factor:, brokers: nil)
      raise Errors::UnsupportedFeatureError,
            "Karafka::Admin.plan_topic_replication(topic: #{topic.inspect}, replication_factor: #{replication_factor}" \
            "#{brokers ? ', brokers: ...' : ''}) is not supported by karafka-rs; use kafka-reassign-partitions.sh " \
            '--generate (cluster_info shows the current replicas)'
    end

    # Karafka hands out its rdkafka clients here; karafka-rs has no Ruby Kafka client.
    %i[with_consumer with_admin].each do |name|
      define_method(name) do |*|
        raise Errors::UnsupportedFeatureError,
              "Karafka::Admin.#{name} yields an rdkafka-ruby client, which karafka-rs does not have; use " \
              'read_topic, read_watermark_offsets, read_lags_with_offsets, seek_consumer_group or cluster_info'
      end
    end

    private

    # `config.kafka` (with any instance / per-call settings over it) as native pairs.
    def kafka(extra = {})
      App.config.kafka.merge(@custom_kafka, extra).map { |key, value| [key.to_s, value.to_s] }
    end

    # The first offset stored at or after `time` (the high watermark when there is none).
    def offset_at(name, partition, time)
      Native::Admin._offsets_for_times(kafka, name, [[partition, (time.to_r * 1000).to_i]]).first.last
    end

    # How often {#until_metadata_shows} asks again, in seconds.
    METADATA_STEP = 0.05

    # The controller answers a create or delete before the brokers' metadata shows it, and a
    # produce or read in that gap fails with an unknown topic or partition. So, as Karafka's
    # Admin does, a change returns once the metadata shows it, for at most
    # `config.admin.max_wait_time` ms.
    # @param what [String] what the metadata should show, for the error
    # @return [true]
    def until_metadata_shows(what, &shown)
      return true if Polling.until_true(App.config.admin.max_wait_time / 1000.0, METADATA_STEP, &shown)

      raise Errors::AdminError, "the cluster's metadata did not show #{what} within " \
                                "config.admin.max_wait_time (#{App.config.admin.max_wait_time} ms)"
    end

    # Errors a broker gives while a group's coordinator moves or loads (a broker restart): the
    # same request succeeds a moment later.
    COORDINATOR_MOVES = /NotCoordinator|CoordinatorLoadInProgress|CoordinatorNotAvailable/

    # Retries such errors every `config.admin.retry_backoff` ms for at most
    # `config.admin.max_retries_duration` ms, as Karafka's Admin does.
    def retrying_coordinator_moves
      settings = App.config.admin
      deadline = ::Process.clock_gettime(::Process::CLOCK_MONOTONIC) + (settings.max_retries_duration / 1000.0)
      begin
        yield
      rescue Errors::AdminError => e
        raise unless e.message.match?(COORDINATOR_MOVES) && ::Process.clock_gettime(::Process::CLOCK_MONOTONIC) < deadline

        sleep(settings.retry_backoff / 1000.0) # the broker's own recovery time, not a sync point
        retry
      end
    end

    # Messages deserialized as the routes say for `name` (Karafka's defaults otherwise).
    def build_messages(name, partition, rows)
      received_at = Time.now
      deserializers = App.routes.deserializers_for(name)
      rows.map do |stored|
        ms = stored.timestamp_ms
        metadata = Messages::Metadata.new(topic: name, partition: partition, offset: stored.offset,
                                          timestamp: ms && Time.at(ms / 1000r), raw_key: stored.key,
                                          raw_headers: stored.headers, received_at: received_at)
        metadata.deserializers = deserializers
        Messages::Message.new(stored.payload, metadata, deserializer: deserializers.payload)
      end
    end

    # Karafka's class-level API (`Karafka::Admin.read_topic(...)`): the default cluster.
    (public_instance_methods(false) + ConsumerGroups.public_instance_methods).each do |name|
      singleton_class.define_method(name) { |*args, &block| new.public_send(name, *args, &block) }
      singleton_class.send(:ruby2_keywords, name)
    end
  end
end
