# frozen_string_literal: true

module Karafka
  module Messages
    # A message's metadata, with Karafka's attribute names. `key` and `headers` are what the
    # route's key and headers deserializers make of the raw values (Karafka's defaults return
    # them unchanged), each computed once.
    Metadata = Struct.new(:topic, :partition, :offset, :timestamp, :raw_key, :raw_headers, :received_at,
                          keyword_init: true) do
      # @param deserializers [Routing::Topic::Deserializers, nil] (nil: the raw values)
      attr_writer :deserializers

      # @return [Object] the raw key unless a route deserializes it
      def key
        return raw_key unless @deserializers

        @key = @deserializers.key.call(self) unless defined?(@key)
        @key
      end

      # @return [Object] the raw headers unless a route deserializes them
      def headers
        return raw_headers unless @deserializers

        @headers = @deserializers.headers.call(self) unless defined?(@headers)
        @headers
      end
    end
  end
end
