# frozen_string_literal: true

# `config.producer = WaterDrop::Producer.new { |config| config.kafka = { ... } }`, as Karafka's
# docs write a custom producer: karafka-rs has no WaterDrop gem, so this builds a
# `Karafka::Producer` (the same produce API) from WaterDrop's block settings.
module WaterDrop
  # A `Karafka::Producer` configured the WaterDrop way.
  class Producer < Karafka::Producer
    # WaterDrop's settings that mean something here; others raise naming themselves.
    class Config
      # @return [Hash] librdkafka settings
      attr_accessor :kafka
      # @return [String, nil]
      attr_accessor :id
      # @return [Logger, nil] accepted (karafka-rs logs through Karafka.logger)
      attr_accessor :logger
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

      def method_missing(name, *_args)
        raise Karafka::Errors::InvalidConfigurationError,
              "WaterDrop::Producer setting #{name.to_s.delete_suffix('=')} is not supported by karafka-rs " \
              '(supported: kafka, id, logger, max_wait_timeout, deliver, monitor)'
      end

      def respond_to_missing?(_name, _include_private = false)
        false
      end
    end

    # @yieldparam config [Config]
    def initialize
      unless block_given?
        raise ArgumentError, 'karafka-rs builds WaterDrop::Producer from its block: ' \
                             'WaterDrop::Producer.new { |config| config.kafka = { ... } }'
      end

      config = Config.new
      yield(config)
      unless config.deliver
        raise Karafka::Errors::InvalidConfigurationError,
              'WaterDrop::Producer deliver = false is not supported by karafka-rs; use ' \
              "ActiveJob's :test adapter or Karafka's testing helpers"
      end
      kafka = config.kafka.dup
      kafka[:'message.timeout.ms'] = config.max_wait_timeout if config.max_wait_timeout
      super(kafka: kafka, monitor: config.monitor || Karafka::Instrumentation::Monitor.new)
    end
  end
end
