# frozen_string_literal: true

module Karafka
  module Testing
    # The batch `consumer.messages` returns, as Karafka's `Karafka::Messages::Messages`.
    class Messages
      include Enumerable

      # @param messages [Array<Message>]
      def initialize(messages)
        @messages = messages.freeze
      end

      # @yieldparam message [Message]
      def each(&block)
        return enum_for(:each) unless block

        @messages.each(&block)
        self
      end

      # @return [Integer]
      def size
        @messages.size
      end
      alias count size

      # @return [Boolean]
      def empty?
        @messages.empty?
      end

      # @return [Message, nil]
      def last
        @messages.last
      end

      # @return [Array<Object>] the parsed payloads
      def payloads
        @messages.map(&:payload)
      end

      # @return [Array<String>]
      def raw_payloads
        @messages.map(&:raw_payload)
      end

      # @return [Array<Message>]
      def to_a
        @messages.dup
      end
    end
  end
end
