# frozen_string_literal: true

module Karafka
  class Producer
    # The WaterDrop `label:`s of async messages still in flight. A label is any Ruby object,
    # so it stays here and the native message carries a token for it: a failure comes back
    # with its token (and gets its label for `error.occurred`'s `delivery_report`), a delivery
    # settles it (ext/karafka_rs/src/core/produce/delivery.rs, `AsyncFailures::settle`). Only
    # labelled messages are kept, so a producer whose messages have none pays nothing.
    class Labels
      def initialize
        @labels = {}
        @next_token = 0
        @mutex = Mutex.new
      end

      # @param label [Object, nil]
      # @return [Integer, nil] the token the native message carries (nil: no label)
      def register(label)
        return if label.nil?

        @mutex.synchronize do
          token = (@next_token += 1)
          @labels[token] = label
          token
        end
      end

      # @param token [Integer, nil] a failed message's token
      # @return [Object, nil] its label, forgotten here
      def take(token)
        return if token.nil?

        @mutex.synchronize { @labels.delete(token) }
      end

      # @param tokens [Array<Integer>] of delivered messages (or of failures only counted)
      def settle(tokens)
        return if tokens.empty?

        @mutex.synchronize { tokens.each { |token| @labels.delete(token) } }
      end

      # @return [Integer] labels kept
      def size
        @mutex.synchronize { @labels.size }
      end

      # Forgets every label (the producer closed: nothing more will be reported).
      def clear
        @mutex.synchronize { @labels.clear }
      end
    end
  end
end
