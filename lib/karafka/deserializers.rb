# frozen_string_literal: true

module Karafka
  # Karafka's default deserializers, as routes name them (`deserializers(payload:, key:,
  # headers:)`): what `Karafka::Admin.read_topic`'s messages answer for `payload`, `key` and
  # `headers` unless a route gives its own. (Active Job payloads are read by
  # `config.internal.active_job.deserializer`, as in Karafka.)
  module Deserializers
    # JSON, nil for a tombstone.
    class Payload
      # @param message [Messages::Message]
      # @return [Object, nil]
      def call(message)
        message.raw_payload.nil? ? nil : JSON.parse(message.raw_payload)
      end
    end

    # The key as stored.
    class Key
      # @param metadata [Messages::Metadata]
      # @return [String, nil]
      def call(metadata)
        metadata.raw_key
      end
    end

    # The headers as stored.
    class Headers
      # @param metadata [Messages::Metadata]
      # @return [Hash{String => String}]
      def call(metadata)
        metadata.raw_headers
      end
    end
  end
end
