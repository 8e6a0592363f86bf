# frozen_string_literal: true

require_relative 'events'

module Karafka
  module Instrumentation
    # Publishes events to subscribers: blocks for one event, or listener objects answering
    # `on_<event_name_with_underscores>`. With no subscriber, instrumenting costs a hash lookup.
    class Monitor
      # Event data handed to subscribers (`event[:job]`, `event.payload`, `event.id`).
      Event = Struct.new(:id, :payload) do
        # @param key [Symbol]
        def [](key)
          payload[key]
        end
      end

      def initialize
        @subscribers = Hash.new { |hash, key| hash[key] = [] }
        @mutex = Mutex.new
      end

      # @param event_name_or_listener [String, Object] an event name (with a block) or a listener
      def subscribe(event_name_or_listener = nil, &block)
        @mutex.synchronize do
          if block
            name = event_name_or_listener.to_s
            validate_name!(name)
            @subscribers[name] = [*@subscribers[name], block]
          else
            listener = event_name_or_listener
            EVENTS.each do |name|
              method_name = "on_#{name.tr('.', '_')}"
              next unless listener.respond_to?(method_name)

              @subscribers[name] = [*@subscribers[name], listener.method(method_name)]
            end
            (@listeners ||= []) << listener
          end
        end
      end

      # @return [Array<Object>] listener objects subscribed so far
      def listeners
        @listeners || []
      end

      # @param name [String]
      # @return [Boolean] whether anyone listens (callers skip building payloads when not)
      def listening?(name)
        @subscribers.key?(name) && !@subscribers[name].empty?
      end

      # Publishes `name` with `payload`. With a block, runs it first and adds `time` (ms).
      # @return the block's result
      def instrument(name, payload = {})
        if block_given?
          started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
          result = yield
          payload[:time] = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started) * 1000
        end
        publish(name, payload) if listening?(name)
        result
      end

      private

      def publish(name, payload)
        event = Event.new(name, payload)
        @subscribers[name].each { |subscriber| subscriber.call(event) }
      end

      def validate_name!(name)
        return if EVENTS.include?(name)

        raise ArgumentError, "unknown instrumentation event '#{name}'; known: #{EVENTS.join(', ')}"
      end
    end
  end
end
