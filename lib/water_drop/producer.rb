# frozen_string_literal: true

# `config.producer = WaterDrop::Producer.new { |config| config.kafka = { ... } }`, as Karafka's
# docs write a custom producer, or `WaterDrop::Producer.new` then `producer.setup { ... }`, as
# WaterDrop's do: karafka-rs has no WaterDrop gem, so this is a `Karafka::Producer` (the same
# produce API) configured from WaterDrop's settings.
module WaterDrop
  # A `Karafka::Producer` configured the WaterDrop way.
  class Producer < Karafka::Producer
    # WaterDrop's settings that mean something here; others raise naming themselves.
    class Config
      # @return [Hash] librdkafka settings
      attr_accessor :kafka
      # @return [String, nil]
      attr_accessor :id
      # @return [Logger] accepted (karafka-rs logs through Karafka.logger, which it reads
      #   when none was given)
      attr_writer :logger
      # @return [Integer, nil] ms a sync dispatch may wait (librdkafka's message.timeout.ms)
      attr_accessor :max_wait_timeout
      # @return [Boolean] false (WaterDrop's test mode) is not supported
      attr_accessor :deliver
      # @return [Karafka::Instrumentation::Monitor, nil]
      attr_accessor :monitor

      def initialize
        @kafka = {}
        @deliver = true
      end

      # @return [Logger]
      def logger
        @logger || Karafka.logger
      end

      def method_missing(name, *_args)
        raise Karafka::Errors::InvalidConfigurationError,
              "WaterDrop::Producer setting #{name.to_s.delete_suffix('=')} is not supported by karafka-rs " \
              '(supported: kafka, id, logger, max_wait_timeout, deliver, monitor)'
      end

      def respond_to_missing?(_name, _include_private = false)
        false
      end
    end

    # @return [Config]
    attr_reader :config

    # Without a block the producer waits for {#setup}: until then it has a monitor and a
    # middleware (subscriptions and steps may come first) but cannot produce.
    # @yieldparam config [Config] (or later, with {#setup})
    def initialize(&block) # rubocop:disable Lint/MissingSuper -- the parent is built by #setup (configure)
      @config = Config.new
      @monitor = Karafka::Instrumentation::Monitor.new
      @middleware = Karafka::Producer::Middleware.new
      setup(&block) if block
    end

    # WaterDrop's: configures a producer made without a block; once only.
    # @yieldparam config [Config]
    # @return [self]
    def setup
      raise Karafka::Errors::InvalidConfigurationError, 'this WaterDrop::Producer is set up already' if @native

      yield(config)
      unless config.deliver
        raise Karafka::Errors::InvalidConfigurationError,
              'WaterDrop::Producer deliver = false is not supported by karafka-rs; use ' \
              "ActiveJob's :test adapter or Karafka's testing helpers"
      end
      kafka = config.kafka.dup
      kafka[:'message.timeout.ms'] = config.max_wait_timeout if config.max_wait_timeout
      config.monitor ||= @monitor
      configure(kafka: kafka, monitor: config.monitor, max_wait_timeout: DEFAULT_MAX_WAIT_TIMEOUT)
      self
    end

    # @return [String] `config.id`, else a UUID
    def id
      config.id ||= super
    end
  end
end
