# frozen_string_literal: true

require 'securerandom'
require_relative 'middleware'
require_relative 'status'

module Karafka
  class Producer
    # The rest of WaterDrop's producer API an app may call on `Karafka.producer`: its id,
    # status, settings, tags and middleware, `partition_count`, `close!`. Transactions are not
    # in karafka-rs: asking for one raises, saying so.
    module WaterDropApi
      # WaterDrop's `producer.config` (what karafka-rs has of it).
      Config = Struct.new(:kafka, :id, :max_wait_timeout, :monitor, :logger, :deliver, keyword_init: true)

      # @return [String] this producer's id (WaterDrop's `config.id`, else a UUID)
      def id
        @id ||= SecureRandom.uuid
      end

      # @return [Config]
      def config
        @config ||= Config.new(kafka: kafka, id: id, max_wait_timeout: max_wait_timeout, monitor: monitor,
                               logger: Karafka.logger, deliver: true)
      end

      # @return [Status]
      def status
        Status.new(self)
      end

      # @return [Core::Taggable::Tags] (WaterDrop's producer tags)
      def tags
        @tags ||= Core::Taggable::Tags.new
      end

      # @return [Middleware]
      def middleware
        @middleware ||= Middleware.new
      end

      # @return [Boolean] `enable.idempotence` is on
      def idempotent?
        setting = kafka.find { |key, _| key.to_s == 'enable.idempotence' }&.last
        [true, 'true'].include?(setting)
      end

      # @return [false] karafka-rs' producers are never transactional
      def transactional?
        false
      end

      # @raise [Errors::UnsupportedFeatureError] always
      def transaction(*)
        raise Errors::UnsupportedFeatureError,
              'Karafka.producer.transaction: WaterDrop transactions are not in karafka-rs; produce with ' \
              'produce_sync (acks: all) and make the jobs idempotent instead'
      end

      # @param topic [String]
      # @return [Integer] the topic's partitions (librdkafka's metadata, cached for 30 s)
      def partition_count(topic)
        native._partition_count(topic.to_s)
      end

      # WaterDrop's forceful close: waits at most `max_wait_timeout` for deliveries, then gives
      # up on the rest (they are reported, as by {Producer#close}).
      # @return [Boolean] true when every message was delivered
      def close!
        close(max_wait_timeout)
      end
    end
  end
end
