# frozen_string_literal: true

require_relative '../contracts/messages'

module Karafka
  class Producer
    # Validates a WaterDrop-style message hash and turns it into the native row
    # ({Native::OutgoingMessage}).
    module Message
      module_function

      # @param message [Hash] `topic:`, `payload:`, optional `key:`, `partition_key:`,
      #   `partition:`, `headers:`, `timestamp:` (a Time or ms since the epoch); its `label:`
      #   is the producer's to keep (see {Labels})
      # @return [Native::OutgoingMessage]
      # @raise [Errors::MessageInvalidError]
      def to_row(message)
        raise Errors::MessageInvalidError, "message must be a Hash, got #{message.class}" unless message.is_a?(Hash)

        topic = message[:topic]
        invalid!(:topic, message) unless (topic.is_a?(String) || topic.is_a?(Symbol)) && !topic.empty?
        %i[payload key partition_key].each do |field|
          value = message[field]
          invalid!(field, message) unless value.nil? || value.is_a?(String)
        end
        partition = message[:partition]
        invalid!(:partition, message) unless partition.nil? || (partition.is_a?(Integer) && partition >= 0)

        Native::OutgoingMessage.new(topic.to_s, message[:payload], message[:key], message[:partition_key], partition,
                                    header_pairs(message), timestamp_ms(message))
      end

      # The inverse of {to_row}: the message as a Hash, without its empty fields.
      # @param row [Native::OutgoingMessage]
      # @return [Hash]
      def from_row(row)
        message = { topic: row.topic, payload: row.payload, key: row.key, partition_key: row.partition_key,
                    partition: row.partition, timestamp: row.timestamp }.compact
        message[:headers] = row.headers.to_h unless row.headers.empty?
        message
      end

      # WaterDrop takes a Time or an Integer (ms); librdkafka wants ms.
      def timestamp_ms(message)
        case (timestamp = message[:timestamp])
        when nil then nil
        when Time then (timestamp.to_r * 1000).to_i
        when Integer then timestamp
        else invalid!(:timestamp, message)
        end
      end

      def header_pairs(message)
        headers = message[:headers]
        return [] if headers.nil?

        invalid!(:headers, message) unless headers.is_a?(Hash)
        headers.map do |name, value|
          invalid!(:headers, message) unless value.is_a?(String)
          [name.to_s, value]
        end
      end

      def invalid!(field, message)
        raise Errors::MessageInvalidError,
              "#{field} #{Contracts.message(:message, field)} (topic: #{message[:topic].inspect})"
      end
    end
  end
end
