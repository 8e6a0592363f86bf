# frozen_string_literal: true

require_relative 'metadata'

module Karafka
  module Messages
    # One Kafka message, as Karafka hands it out (`Karafka::Admin.read_topic`, testing
    # helpers): the raw bytes, lazily deserialized `payload`, and its {Metadata}.
    class Message
      # Karafka's default payload deserializer: JSON, nil for a tombstone.
      DEFAULT_DESERIALIZER = ->(message) { message.raw_payload.nil? ? nil : JSON.parse(message.raw_payload) }

      # @return [String, nil] the bytes as stored in Kafka (nil for a tombstone)
      attr_reader :raw_payload
      # @return [Metadata]
      attr_reader :metadata

      %i[topic partition offset timestamp key headers raw_key raw_headers received_at].each do |name|
        define_method(name) { metadata.public_send(name) }
      end

      # @param raw_payload [String, nil]
      # @param metadata [Metadata]
      # @param deserializer [#call] gets the message, returns the payload
      def initialize(raw_payload, metadata, deserializer: DEFAULT_DESERIALIZER)
        @raw_payload = raw_payload
        @metadata = metadata
        @deserializer = deserializer
        @deserialized = false
        @payload = nil
      end

      # @return [Object] the deserialized payload (JSON by default), computed once
      # @raise [JSON::ParserError] when the default deserializer gets something not JSON
      def payload
        return @payload if @deserialized

        @payload = @deserializer.call(self)
        @deserialized = true
        @payload
      end

      # @param value [Object] replaces the deserialized payload
      def payload=(value)
        @payload = value
        @deserialized = true
      end

      # @return [Boolean] whether {#payload} was computed
      def deserialized?
        @deserialized
      end

      # @return [Boolean] a message without payload (compaction's delete marker)
      def tombstone?
        raw_payload.nil?
      end
    end
  end
end
