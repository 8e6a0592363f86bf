# frozen_string_literal: true

module Karafka
  # The application: `class KarafkaApp < Karafka::App; setup { ... }; routes.draw { ... }; end`.
  # There is one per process: subclasses configure the same global state, as in Karafka.
  class App
    # Karafka's process states (Operations/Signals-and-States), in order; each change is
    # published as `app.<state>`.
    STATES = %i[initializing initialized supervising running quieting quiet stopping stopped terminated].freeze
    # Process-wide state, shared by every subclass (`KarafkaApp`) like Karafka's.
    STORE = {} # rubocop:disable Style/MutableConstant -- intentionally mutable

    class << self
      # @yieldparam config [Setup::Config]
      # @raise [Errors::InvalidConfigurationError] naming the invalid setting
      def setup
        yield(config)
        Setup::Contract.new.validate!(config)
        Karafka.reset_producer!
        initialized!
        config
      end

      # @return [Setup::Config]
      def config
        STORE[:config] ||= Setup::Config.new
      end

      # @return [Routing::Builder]
      def routes
        STORE[:routes] ||= Routing::Builder.new
      end

      # @return [Symbol] one of {STATES}
      def state
        STORE[:state] || :initializing
      end

      # @param value [Symbol]
      def state=(value)
        raise ArgumentError, "unknown state #{value}" unless STATES.include?(value)

        STORE[:state] = value
      end

      STATES.each do |name|
        define_method(:"#{name}?") { state == name }
      end

      # Karafka's: whether the process takes no new work any more (quieting, quiet, stopping,
      # stopped or terminated).
      def done?
        %i[quieting quiet stopping stopped terminated].include?(state)
      end

      # Moves to `state` and publishes `app.<state>`, as Karafka's state changes do.
      # @param state [Symbol] one of {STATES}
      # @param payload [Hash]
      # @api private
      def transition(state, payload = {})
        self.state = state
        monitor.instrument("app.#{state}", payload)
      end

      # Karafka's: the partitions this process owns now, by routed topic
      # (Instrumentation::AssignmentsTracker).
      # @return [Hash{Routing::Topic => Array<Integer>}]
      def assignments
        Instrumentation::AssignmentsTracker.instance.current
      end

      # Karafka API: the consumer groups; here, the routed topics.
      # @return [Routing::Builder]
      def consumer_groups
        routes
      end

      # Karafka's `Karafka::App.monitor`, `.producer`, `.logger`, `.env`, `.root`, `.pro?`.
      %i[monitor producer logger env root pro?].each do |name|
        define_method(name) { Karafka.public_send(name) }
      end

      # Forgets settings and routes (for specs that configure apps repeatedly).
      def reset!
        STORE.clear
        ActiveJob::PathEpoch.bump! # a new config has another logger
      end

      private

      # As Karafka, a configured app is `initialized` (once it runs, a later `setup` does not
      # move it back).
      def initialized!
        transition(:initialized) if %i[initializing initialized].include?(state)
      end
    end
  end
end
