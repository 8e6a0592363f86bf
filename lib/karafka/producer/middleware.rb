# frozen_string_literal: true

module Karafka
  class Producer
    # WaterDrop's message middleware (`producer.middleware.append(->(message) { ... })`): each
    # step gets a message Hash before it is validated and sent, and returns the message to
    # send (changed, or a new Hash). Jobs' own dispatches go through it too. With no step,
    # nothing is done per message.
    class Middleware
      def initialize
        @steps = [].freeze
        @mutex = Mutex.new
      end

      # @param step [#call] gets a message Hash, returns one
      def append(step)
        @mutex.synchronize { @steps = [*@steps, step].freeze }
      end

      # @param step [#call]
      def prepend(step)
        @mutex.synchronize { @steps = [step, *@steps].freeze }
      end

      # @return [Boolean] whether there is no step
      def empty?
        @steps.empty?
      end

      # @param message [Hash]
      # @return [Hash] the message after every step
      def run(message)
        @steps.reduce(message) { |current, step| step.call(current) }
      end

      # @param messages [Array<Hash>]
      # @return [Array<Hash>]
      def run_many(messages)
        messages.map { |message| run(message) }
      end
    end
  end
end
