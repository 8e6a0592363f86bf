# frozen_string_literal: true

module Karafka
  module Setup
    # Karafka's `Karafka::Setup::AttributesMap`: one `config.kafka` hash, split into what a
    # consumer and what a producer takes, so it can configure both (Karafka's own scenarios
    # build their WaterDrop producer with `AttributesMap.producer(config.kafka.dup)`).
    #
    # The lists are librdkafka 2.12's consumer-only (C) and producer-only (P) properties
    # (CONFIGURATION.md of the librdkafka karafka-rs bundles); every other key, those of both
    # and unknown ones, is kept for both, and librdkafka judges it.
    module AttributesMap
      CONSUMER_ONLY = %w[
        group.id group.instance.id partition.assignment.strategy session.timeout.ms heartbeat.interval.ms
        group.protocol.type group.protocol group.remote.assignor coordinator.query.interval.ms
        max.poll.interval.ms enable.auto.commit auto.commit.interval.ms enable.auto.offset.store
        queued.min.messages queued.max.messages.kbytes fetch.wait.max.ms fetch.queue.backoff.ms
        fetch.message.max.bytes max.partition.fetch.bytes fetch.max.bytes fetch.min.bytes
        fetch.error.backoff.ms offset.store.method isolation.level enable.partition.eof check.crcs
        auto.commit.enable auto.offset.reset offset.store.path offset.store.sync.interval.ms
        consume.callback.max.messages
      ].freeze

      PRODUCER_ONLY = %w[
        transactional.id transaction.timeout.ms enable.idempotence enable.gapless.guarantee
        queue.buffering.max.messages queue.buffering.max.kbytes queue.buffering.max.ms linger.ms
        message.send.max.retries retries queue.buffering.backpressure.threshold compression.codec
        compression.type batch.num.messages batch.size delivery.report.only.error
        sticky.partitioning.linger.ms request.required.acks acks request.timeout.ms message.timeout.ms
        delivery.timeout.ms queuing.strategy produce.offset.report partitioner compression.level
      ].freeze

      module_function

      # @param kafka [Hash] librdkafka settings (String or Symbol keys)
      # @return [Hash] without the consumer-only ones
      def producer(kafka)
        kafka.reject { |key, _| CONSUMER_ONLY.include?(key.to_s) }
      end

      # @param kafka [Hash]
      # @return [Hash] without the producer-only ones
      def consumer(kafka)
        kafka.reject { |key, _| PRODUCER_ONLY.include?(key.to_s) }
      end
    end
  end
end
