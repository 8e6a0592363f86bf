# frozen_string_literal: true

require_relative 'events'

module Karafka
  module Instrumentation
    # Publishes events to subscribers: blocks for one event, or listener objects answering
    # `on_<event_name_with_underscores>` (as Karafka's and WaterDrop's monitors do). Every name
    # in {EVENTS} can be subscribed to; the ones in {NEVER_EMITTED} never fire here. With no
    # subscriber, instrumenting costs a hash lookup.
    class Monitor
      # Event data handed to subscribers (`event[:job]`, `event.payload`, `event.id`).
      Event = Struct.new(:id, :payload) do
        # @param key [Symbol]
        def [](key)
          payload[key]
        end
      end

      NOBODY = [].freeze
      private_constant :NOBODY

      # The default payload, as in Karafka's monitor: a subclass overriding {#instrument}
      # (`def instrument(event_id, payload = EMPTY_HASH, &block)`, Karafka's docs) passes it on.
      EMPTY_HASH = {}.freeze

      # Karafka's signature (karafka-core's monitor over a notifications bus). Here the monitor
      # is its own bus: `notifications_bus` may be a fresh {Notifications} (what Karafka's
      # default is, and what custom monitors written for Karafka pass on to `super`), which
      # then holds nothing this monitor would miss; anything else raises, naming it.
      # @param notifications_bus [Notifications, nil]
      # @param namespace [nil] (karafka-core appends it to event names; not supported)
      def initialize(notifications_bus = nil, namespace = nil)
        check_bus!(notifications_bus, namespace)
        @subscribers = {}
        @mutex = Mutex.new
        @listeners = []
        @conditional = {}
        @registered = [].freeze
      end

      # Karafka's monitor keeps its events on a notifications bus (`register_event`,
      # `subscribe`, `instrument`, ...); here the monitor is its own bus.
      # @return [Monitor] self
      def notifications_bus
        self
      end

      # Adds an application event that can then be subscribed to and instrumented, as Karafka
      # allows (`Karafka.monitor.notifications_bus.register_event('app.custom.event')`).
      # Listener objects subscribed before it was registered do not get it.
      # @param name [String]
      def register_event(name)
        @mutex.synchronize do
          name = name.to_s
          @registered = [*@registered, name].uniq.freeze unless EVENTS.include?(name)
        end
        nil
      end

      # @param event_name_or_listener [String, Object] an event name (with a block) or a listener
      # @raise [ArgumentError] for a name that is not one of {EVENTS}
      def subscribe(event_name_or_listener = nil, &block)
        @mutex.synchronize do
          if block
            name = event_name_or_listener.to_s
            validate_name!(name)
            add(name, block)
          else
            listener = event_name_or_listener
            available_events.each do |event|
              method_name = "on_#{event.tr('.', '_')}"
              add(event, listener.method(method_name)) if listener.respond_to?(method_name)
            end
            @listeners = [*@listeners, listener]
          end
          @conditional = conditional_listeners
          # Executors that cache "does anyone listen" look again (ActiveJob::PathEpoch).
          ActiveJob::PathEpoch.bump!
        end
      end

      # Removes a listener object or a block given to {#subscribe}.
      # @param listener_or_block [Object, Proc]
      def unsubscribe(listener_or_block)
        @mutex.synchronize do
          @subscribers = @subscribers.transform_values do |subscribers|
            subscribers.reject { |s| s == listener_or_block || (s.is_a?(Method) && s.receiver.equal?(listener_or_block)) }
          end.reject { |_, subscribers| subscribers.empty? }
          @listeners = @listeners.reject { |listener| listener.equal?(listener_or_block) }
          @conditional = conditional_listeners
          # Executors that cache "does anyone listen" look again (ActiveJob::PathEpoch).
          ActiveJob::PathEpoch.bump!
        end
      end

      # @return [Array<Object>] listener objects subscribed so far
      attr_reader :listeners

      # @return [Array<String>] every event name {#subscribe} accepts (Karafka's API)
      def available_events
        @registered.empty? ? EVENTS : EVENTS + @registered
      end

      # @return [Boolean] whether anything subscribed (a bus handed to a new monitor must not)
      # @api private
      def listening_to_anything?
        !@subscribers.empty?
      end

      # @param name [String]
      # @return [Boolean] whether anyone listens (callers skip building payloads when not)
      def listening?(name)
        @subscribers.key?(name)
      end

      # The listeners to ask whether `name` would be acted on now, for callers that skip
      # building a per-job event nobody uses: [] when nobody subscribes, nil when a subscriber
      # always acts. A listener object may answer `silent_on?(event_name)`: true while it would
      # do nothing with the event (the logger listener below its level); blocks and listeners
      # without `silent_on?` always act. Changes only with a (un)subscription (ActiveJob::PathEpoch).
      # @param name [String]
      # @return [Array<Object>, nil]
      def silenceable(name)
        return NOBODY unless @subscribers.key?(name)

        @conditional[name]
      end

      # Publishes `name` with `payload`. With a block, runs it first and adds `time` (ms) to the
      # payload (to a copy of a frozen one, such as {EMPTY_HASH}).
      # @return the block's result
      def instrument(name, payload = EMPTY_HASH)
        if block_given?
          started = ::Process.clock_gettime(::Process::CLOCK_MONOTONIC)
          result = yield
          time = (::Process.clock_gettime(::Process::CLOCK_MONOTONIC) - started) * 1000
          payload = payload.dup if payload.frozen?
          payload[:time] = time
        end
        publish(name, payload) if listening?(name)
        result
      end

      private

      def check_bus!(bus, namespace)
        unless namespace.nil?
          raise Errors::UnsupportedFeatureError,
                "a monitor namespace (#{namespace.inspect}) is not supported by karafka-rs: events keep their names"
        end
        return if bus.nil? || (bus.is_a?(Monitor) && bus.listeners.empty? && !bus.listening_to_anything?)

        raise Errors::UnsupportedFeatureError,
              "notifications_bus #{bus.class} is not supported by karafka-rs: a monitor is its own bus " \
              '(pass none, or a new Karafka::Instrumentation::Notifications, and subscribe to the monitor)'
      end

      # Copy-on-write: publishers iterate the lists without taking the mutex.
      def add(name, subscriber)
        @subscribers = @subscribers.merge(name => [*@subscribers[name], subscriber])
      end

      # { event name => its listener objects } for the events whose every subscriber is a
      # listener answering `silent_on?` ({#silenceable}); the others are always acted on.
      def conditional_listeners
        @subscribers.each_with_object({}) do |(name, subscribers), conditional|
          next unless subscribers.all? { |s| s.is_a?(Method) && s.receiver.respond_to?(:silent_on?) }

          conditional[name] = subscribers.map(&:receiver).uniq.freeze
        end
      end

      def publish(name, payload)
        subscribers = @subscribers[name] or return
        event = Event.new(name, payload)
        subscribers.each { |subscriber| subscriber.call(event) }
      end

      def validate_name!(name)
        return if EVENTS.include?(name) || @registered.include?(name)

        raise ArgumentError, "unknown instrumentation event '#{name}' (Karafka::Instrumentation::EVENTS lists " \
                             "the known ones; register an app's own with monitor.notifications_bus.register_event)"
      end
    end
  end
end

module Karafka
  # karafka-core's names for the monitor and its events: listeners and scenarios written for
  # Karafka check `event.is_a?(Karafka::Core::Monitoring::Event)`.
  module Core
    module Monitoring
      Monitor = Instrumentation::Monitor
      Event = Instrumentation::Monitor::Event
    end
  end
end

require_relative 'notifications'
