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

      # Karafka's debug mode: the logger (and a producer's) at DEBUG, and librdkafka's `debug`
      # contexts in config.kafka (and routes' own kafka settings) for the clients made from
      # now on; the default producer is made again on its next use, with them. A custom
      # producer's client keeps the settings it was made with.
      # @param contexts [String] librdkafka's `debug` value
      # @return [true]
      def debug!(contexts = 'all')
        logger.level = ::Logger::DEBUG
        config.kafka[:debug] = contexts
        routes.topics.select(&:replaces_kafka?).each { |topic| topic.kafka[:debug] = contexts }
        Karafka.reset_producer! unless config.producer
        producer.config.logger&.level = ::Logger::DEBUG if producer.respond_to?(:config)
        producer.config.kafka[:debug] = contexts if producer.respond_to?(:config) && producer.config.kafka.is_a?(Hash)
        true
      end

      # Karafka's: the subscription groups with an active topic, by consumer group.
      # @return [Hash{Routing::ConsumerGroup => Array<Routing::ConsumerGroup::SubscriptionGroup>}]
      def subscription_groups
        routes.select(&:active?).to_h do |group|
          [group, group.subscription_groups.select { |subscription_group| subscription_group.topics.any?(&:active?) }]
        end
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
