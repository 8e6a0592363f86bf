# frozen_string_literal: true

# Karafka's generated karafka.rb subscribes WaterDrop's logger listener to the producer:
# `Karafka.producer.monitor.subscribe(WaterDrop::Instrumentation::LoggerListener.new(...))`.
# karafka-rs has no WaterDrop; this listener keeps that line working and logs dispatches.
module WaterDrop
  module Instrumentation
    # Logs producer events with the given logger.
    class LoggerListener
      # @param logger [Logger]
      # @param log_messages [Boolean] log each message's details
      def initialize(logger = nil, log_messages: true)
        @logger = logger
        @log_messages = log_messages
      end

      %w[message.produced_async message.produced_sync messages.produced_async messages.produced_sync].each do |name|
        define_method(:"on_#{name.tr('.', '_')}") do |event|
          next unless logger.debug?

          messages = event[:messages] || [event[:message]]
          detail = @log_messages ? " #{messages.inspect}" : ''
          logger.debug("#{name}: #{messages.size} message(s)#{detail}")
        end
      end

      def on_error_occurred(event)
        logger.error("Producer #{event[:type]}: #{event[:error].message}")
      end

      private

      def logger
        @logger || Karafka.logger
      end
    end
  end
end
