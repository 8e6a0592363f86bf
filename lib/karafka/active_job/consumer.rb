# frozen_string_literal: true

require 'securerandom'
require_relative '../messages/message'

module Karafka
  module ActiveJob
    # The `caller` of `consumer.consume` / `consumer.consumed`, `active_job.consume(d)` and
    # `error.occurred` (type `consumer.consume.error`): a read-only view shaped like the
    # Karafka consumer that Karafka's own listeners (Datadog, AppSignal) read: `messages`
    # (`size`, `count`, `each`, `metadata.first_offset/last_offset/processing_lag/
    # consumption_lag`), `topic.name`, `topic.consumer_group.id`, `partition` and
    # `coordinator.pause_tracker.attempt`.
    #
    # A batch is one job here: karafka-rs hands workers one job at a time, so the "batch"
    # a `consumer.consume` event describes holds the one message being run. Views are built
    # only when someone listens (or for an error report).
    class Consumer < Karafka::BaseConsumer
      # A consumed message: a `Karafka::Messages::Message`, as Karafka's Active Job events
      # carry. `payload` is the job hash once the executor read it.
      class Message < Karafka::Messages::Message
        def initialize(raw_payload:, topic:, partition:, offset:, raw_key:, raw_headers:, timestamp:, received_at:)
          super(raw_payload, Karafka::Messages::Metadata.new(topic: topic, partition: partition, offset: offset,
                                                             timestamp: timestamp, raw_key: raw_key,
                                                             raw_headers: raw_headers || {}, received_at: received_at))
        end

        # @return [Time, nil] when it was produced
        def created_at
          timestamp
        end
      end

      # What Karafka's `messages.metadata` (BatchMetadata) reads.
      BatchMetadata = Struct.new(:topic, :partition, :first_offset, :last_offset, :size, :created_at,
                                 :processed_at, keyword_init: true) do
        # @return [Integer] ms from the (last) message's creation to its processing start
        def consumption_lag
          created_at ? [((processed_at - created_at) * 1_000).round, 0].max : 0
        end

        # @return [Integer] ms the batch waited between being received and processed (the
        #   engine does not track when a message was received: 0)
        def processing_lag
          0
        end
      end

      # Karafka's `Karafka::Messages::Messages`: an Enumerable of one batch's messages.
      class Messages
        include Enumerable

        # @return [BatchMetadata]
        attr_reader :metadata

        # @param messages [Array<Message>]
        # @param metadata [BatchMetadata]
        def initialize(messages, metadata)
          @messages = messages
          @metadata = metadata
        end

        # @yieldparam message [Message]
        def each(&block)
          @messages.each(&block)
        end

        # @return [Integer]
        def size
          @messages.size
        end
        alias count size
        alias length size

        # @return [Message, nil]
        def last
          @messages.last
        end

        # @return [Boolean]
        def empty?
          @messages.empty?
        end

        # @return [Array<Message>]
        def to_a
          @messages.dup
        end
      end

      ConsumerGroup = Struct.new(:id, :name)
      Topic = Struct.new(:name, :consumer_group) do
        # @return [Boolean] karafka-rs routes Active Job topics only
        def active_job?
          true
        end
      end
      PauseTracker = Struct.new(:attempt)
      Coordinator = Struct.new(:pause_tracker)

      # @return [Messages]
      attr_reader :messages
      # @return [Topic]
      attr_reader :topic
      # @return [Integer]
      attr_reader :partition
      # @return [Coordinator]
      attr_reader :coordinator

      # @param message [Message]
      # @param group_id [String] the consumer group (Kafka's `group.id`)
      # @param attempt [Integer] failed attempts so far (Karafka counts the current one: +1)
      def initialize(message, group_id, attempt)
        super()
        @message = message
        @partition = message.partition
        @topic = Topic.new(message.topic, ConsumerGroup.new(group_id, group_id))
        @coordinator = Coordinator.new(PauseTracker.new(attempt + 1))
        metadata = BatchMetadata.new(topic: message.topic, partition: message.partition,
                                     first_offset: message.offset, last_offset: message.offset, size: 1,
                                     created_at: message.timestamp, processed_at: Time.now)
        @messages = Messages.new([message], metadata)
      end

      # Karafka gives each consumer instance (one per topic partition) a random id; here the
      # same partition keeps its id for the life of the process, as its Karafka consumer would.
      IDS = Hash.new { |ids, key| ids[key] = SecureRandom.hex(6) }
      private_constant :IDS

      # @return [String] this topic partition's consumer id
      def id
        IDS[[topic.consumer_group.id, topic.name, partition]]
      end

      # Karafka 2.5's share groups (KIP-932) are not part of karafka-rs: every consumer is a
      # classic consumer group's.
      # @return [false]
      def share_group?
        false
      end
    end
  end
end
