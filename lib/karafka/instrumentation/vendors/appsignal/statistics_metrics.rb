# frozen_string_literal: true

module Karafka
  module Instrumentation
    module Vendors
      module Appsignal
        # The {MetricsListener}'s `statistics.emitted` reporting: walks librdkafka's statistics
        # (with karafka-rs' `_d` deltas) as Karafka's listener does. Partitions are reported only
        # once librdkafka knows their lag (-1 until then), and per partition only while this
        # consumer fetches them; librdkafka's internal partition `-1` and bootstrap brokers
        # (nodeid -1) never are.
        module StatisticsMetrics
          # Fetch states of a partition this consumer does not fetch (not assigned, or lost).
          NOT_FETCHED = %w[stopped none].freeze
          private_constant :NOT_FETCHED

          # @param event [Monitor::Event] `statistics`, `consumer_group_id`
          def on_statistics_emitted(event)
            statistics = event[:statistics]
            consumer_group_id = event[:consumer_group_id]
            rd_kafka_metrics.each { |metric| report_metric(metric, statistics, consumer_group_id) }
            report_aggregated_topics_metrics(statistics, consumer_group_id)
          end

          # @param metric [MetricsListener::RdKafkaMetric]
          # @param statistics [Hash] librdkafka's statistics
          # @param consumer_group_id [String]
          # @raise [ArgumentError] for a scope other than :root, :brokers or :topics
          def report_metric(metric, statistics, consumer_group_id)
            case metric.scope
            when :root then nil
            when :brokers
              statistics.fetch('brokers').each_value do |broker|
                next if broker['nodeid'] == -1

                public_send(metric.type, metric.name, broker.dig(*metric.key_location), { broker: broker['nodename'] })
              end
            when :topics
              each_lagged_partition(statistics) do |topic, partition, values|
                next if NOT_FETCHED.include?(values['fetch_state'])

                public_send(metric.type, metric.name, values.dig(*metric.key_location),
                            { consumer_group: consumer_group_id, topic: topic, partition: partition })
              end
            else
              raise ArgumentError, metric.scope
            end
          end

          # Each topic's sum of its partitions' values (0 while none has its lag yet).
          # @param statistics [Hash] librdkafka's statistics
          # @param consumer_group_id [String]
          def report_aggregated_topics_metrics(statistics, consumer_group_id)
            config.aggregated_rd_kafka_metrics.each do |metric|
              sums = statistics.fetch('topics').keys.to_h { |topic| [topic, 0] }
              each_lagged_partition(statistics) { |topic, _, values| sums[topic] += values.dig(*metric.key_location) }
              sums.each do |topic, sum|
                public_send(metric.type, metric.name, sum, { consumer_group: consumer_group_id, topic: topic })
              end
            end
          end

          private

          def each_lagged_partition(statistics)
            statistics.fetch('topics').each do |topic, topic_values|
              topic_values['partitions'].each do |partition, values|
                next if partition == '-1' || values['consumer_lag'] == -1 || values['consumer_lag_stored'] == -1

                yield(topic, partition, values)
              end
            end
          end
        end
      end
    end
  end
end
