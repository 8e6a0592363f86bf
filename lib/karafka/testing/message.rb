# frozen_string_literal: true

require 'json'

module Karafka
  module Testing
    # A message as a consumer sees it, with the attribute names of Karafka's
    # `Karafka::Messages::Message`. `payload` is the raw payload parsed as JSON (Karafka's
    # default deserializer), on first use.
    class Message
      # @return [String, nil]
      attr_reader :raw_payload
      # @return [String, nil]
      attr_reader :key
      # @return [Hash{String => String}]
      attr_reader :headers
      # @return [Integer]
      attr_reader :offset
      # @return [Integer]
      attr_reader :partition
      # @return [String]
      attr_reader :topic
      # @return [Time] when it was produced
      attr_reader :timestamp
      # @return [Time]
      attr_reader :received_at

      alias raw_key key
      alias raw_headers headers

      # @param attributes [Hash] `raw_payload:`, `key:`, `headers:`, `offset:`, `partition:`,
      #   `topic:`, `timestamp:`
      def initialize(raw_payload:, key:, headers:, offset:, partition:, topic:, timestamp:)
        @raw_payload = raw_payload
        @key = key
        @headers = headers
        @offset = offset
        @partition = partition
        @topic = topic
        @timestamp = timestamp
        @received_at = timestamp
      end

      # @return [Object] the payload parsed as JSON (nil for a tombstone)
      def payload
        return @payload if defined?(@payload)

        @payload = raw_payload.nil? ? nil : ::JSON.parse(raw_payload)
      end

      # @return [Boolean] whether {payload} was computed
      def deserialized?
        defined?(@payload) ? true : false
      end

      # @return [Boolean]
      def tombstone?
        raw_payload.nil?
      end
    end
  end
end
