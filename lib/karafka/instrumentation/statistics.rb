# frozen_string_literal: true

module Karafka
  module Instrumentation
    # Publishes librdkafka's statistics as `statistics.emitted`, as Karafka does: the JSON is
    # parsed once per emission (every `statistics.interval.ms`), only when someone listens,
    # and decorated with Karafka's `_d` deltas (`rxmsgs_d`, `consumer_lag_stored_d`, ...:
    # each numeric value minus the same value in the previous emission, 0 the first time),
    # which Karafka's Datadog and AppSignal listeners read.
    class Statistics
      # @param monitor [Monitor]
      # @param consumer_group_id [String]
      def initialize(monitor, consumer_group_id)
        @monitor = monitor
        @consumer_group_id = consumer_group_id
        @previous = {}
      end

      # Runs on the listener thread (a Ruby thread), with librdkafka's JSON taken from Rust.
      # @param json [String]
      def publish(json)
        return unless @monitor.listening?('statistics.emitted')

        statistics = ::JSON.parse(json)
        decorate(statistics, @previous)
        @previous = statistics
        @monitor.instrument('statistics.emitted', { statistics: statistics, consumer_group_id: @consumer_group_id,
                                                    subscription_group_id: @consumer_group_id })
      end

      private

      def decorate(current, previous)
        previous = {} unless previous.is_a?(Hash)
        current.keys.each do |key| # rubocop:disable Style/HashEachMethods -- keys are added meanwhile
          value = current[key]
          case value
          when Hash then decorate(value, previous[key])
          when Numeric
            before = previous[key]
            current["#{key}_d"] = before.is_a?(Numeric) ? value - before : 0
          end
        end
      end
    end
  end
end
