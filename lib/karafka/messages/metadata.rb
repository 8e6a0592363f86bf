# frozen_string_literal: true

module Karafka
  module Messages
    # A message's metadata, with Karafka's attribute names. `key` and `headers` are the raw
    # values (Karafka's default key and headers deserializers return them unchanged).
    Metadata = Struct.new(:topic, :partition, :offset, :timestamp, :raw_key, :raw_headers, :received_at,
                          keyword_init: true) do
      # @return [String, nil]
      def key
        raw_key
      end

      # @return [Hash{String => String}]
      def headers
        raw_headers
      end
    end
  end
end
