# frozen_string_literal: true

require_relative 'base'
require_relative 'statistics_metrics'

module Karafka
  module Instrumentation
    module Vendors
      module Appsignal
        # Karafka's AppSignal metrics, under Karafka's names (`<namespace>_<name>`) and tags:
        #
        # - each job runs in a transaction (AppSignal's background job namespace) named
        #   `Karafka::ActiveJob::Consumer#consume`, with Karafka's metadata (batch_size,
        #   first_offset, last_offset, consumer_group, topic, partition, attempt);
        # - `consumer_messages`, `consumer_batches` (counts) and `consumer_offsets` (gauge) per
        #   job, `consumer_errors` per failed job, `consumer_dead` per dead letter: each twice,
        #   tagged consumer_group + topic, then with partition too. karafka-rs runs one job at a
        #   time, so each job is a batch of one message;
        # - librdkafka's statistics (StatisticsMetrics): `rd_kafka_metrics`,
        #   `aggregated_rd_kafka_metrics`;
        # - `processes_count` and `threads_count` (concurrency) every minute, from a probe
        #   registered on `app.running` (so a console that loads karafka.rb registers none).
        #
        # Karafka's revoke / shutdown / tick / eof transactions are kept for listeners that
        # call them, but those events never fire in karafka-rs (Instrumentation::NEVER_EMITTED),
        # so no such transaction, nor a `consumer_errors` for their error types, ever appears.
        class MetricsListener < Base
          include StatisticsMetrics

          # One librdkafka statistic to report: `type` :count or :gauge; `scope` :brokers
          # (tagged broker), :topics (tagged consumer_group, topic, partition) or :root
          # (skipped: the same values are reported per broker / partition); `key_location` the
          # key, or the path of keys, in that scope's statistics.
          RdKafkaMetric = Struct.new(:type, :scope, :name, :key_location)

          # Karafka's defaults; `_d` keys are the deltas karafka-rs adds, as Karafka does.
          RD_KAFKA_METRICS = [
            RdKafkaMetric.new(:count, :brokers, 'requests_retries', 'txretries_d'),
            RdKafkaMetric.new(:count, :brokers, 'transmission_errors', 'txerrs_d'),
            RdKafkaMetric.new(:count, :brokers, 'receive_errors', 'rxerrs_d'),
            RdKafkaMetric.new(:count, :brokers, 'connection_connects', 'connects_d'),
            RdKafkaMetric.new(:count, :brokers, 'connection_disconnects', 'disconnects_d'),
            RdKafkaMetric.new(:gauge, :brokers, 'network_latency_avg', %w[rtt avg]),
            RdKafkaMetric.new(:gauge, :brokers, 'network_latency_p95', %w[rtt p95]),
            RdKafkaMetric.new(:gauge, :brokers, 'network_latency_p99', %w[rtt p99]),
            RdKafkaMetric.new(:gauge, :topics, 'consumer_lag', 'consumer_lag_stored'),
            RdKafkaMetric.new(:gauge, :topics, 'consumer_lag_delta', 'consumer_lag_stored_d')
          ].freeze

          # Summed over a topic's partitions, tagged consumer_group + topic.
          AGGREGATED_RD_KAFKA_METRICS = [
            RdKafkaMetric.new(:gauge, :topics, 'consumer_aggregated_lag', 'consumer_lag_stored')
          ].freeze

          Settings = Configurable.settings(client: Client.new, namespace: 'karafka', rd_kafka_metrics: RD_KAFKA_METRICS,
                                           aggregated_rd_kafka_metrics: AGGREGATED_RD_KAFKA_METRICS)

          # Error types raised by user code in the consumer flow (only the first fires here).
          USER_CONSUMER_ERROR_TYPES = %w[
            consumer.consume.error consumer.revoked.error consumer.shutdown.error
            consumer.tick.error consumer.eofed.error
          ].freeze
          private_constant :USER_CONSUMER_ERROR_TYPES

          # @return [String] prefix of every metric name
          def namespace
            config.namespace
          end

          # @return [Array<RdKafkaMetric>]
          def rd_kafka_metrics
            config.rd_kafka_metrics
          end

          # @param event [Monitor::Event]
          def on_consumer_consume(event)
            consumer = event[:caller]
            start_transaction(consumer, 'consume')
            metadata = consumer.messages.metadata
            client.metadata = {
              batch_size: consumer.messages.size, first_offset: metadata.first_offset,
              last_offset: metadata.last_offset, consumer_group: consumer.topic.consumer_group.id,
              topic: consumer.topic.name, partition: consumer.partition,
              attempt: consumer.coordinator.pause_tracker.attempt
            }
          end

          # @param event [Monitor::Event]
          def on_consumer_consumed(event)
            consumer = event[:caller]
            messages = consumer.messages
            with_multiple_resolutions(consumer) do |tags|
              count('consumer_messages', messages.size, tags)
              count('consumer_batches', 1, tags)
              gauge('consumer_offsets', messages.metadata.last_offset, tags)
            end
            stop_transaction
          end

          # Karafka's other user-code hooks (never published by karafka-rs: see above).
          { revoke: %i[revoked revoked], shutting_down: %i[shutdown shutdown], tick: %i[ticked tick],
            eof: %i[eofed eofed] }.each do |before, (after, action)|
            define_method(:"on_consumer_#{before}") { |event| start_transaction(event[:caller], action) }
            define_method(:"on_consumer_#{after}") { |_event| stop_transaction }
          end

          # @param event [Monitor::Event]
          def on_dead_letter_queue_dispatched(event)
            with_multiple_resolutions(event[:caller]) { |tags| count('consumer_dead', 1, tags) }
          end

          # Counts failed jobs; any error ends this thread's transaction (a failed job
          # publishes no `consumer.consumed`).
          # @param event [Monitor::Event]
          def on_error_occurred(event)
            if USER_CONSUMER_ERROR_TYPES.include?(event[:type])
              with_multiple_resolutions(event[:caller]) { |tags| count('consumer_errors', 1, tags) }
            end
            stop_transaction
          end

          # Registers the minutely probe once, when the server runs (never at require time).
          # @param _event [Monitor::Event]
          def on_app_running(_event)
            return if @probe_registered

            @probe_registered = true
            client.register_probe(:karafka, -> { minute_probe })
          end

          # @param key [String] metric name without the namespace
          # @param value [Numeric]
          # @param tags [Hash]
          def count(key, value, tags)
            client.count(namespaced_metric(key), value, tags)
          end

          # @param key [String] metric name without the namespace
          # @param value [Numeric]
          # @param tags [Hash]
          def gauge(key, value, tags)
            client.gauge(namespaced_metric(key), value, tags)
          end

          private

          def namespaced_metric(name)
            "#{namespace}_#{name}"
          end

          # The action is the consumer's class and hook, as in Karafka (its Active Job topics
          # run the same `Karafka::ActiveJob::Consumer`).
          def start_transaction(consumer, action)
            client.start_transaction("#{consumer.class}##{action}")
          end

          def stop_transaction
            client.stop_transaction
          end

          # Yields the topic-level tags, then the same with the partition.
          def with_multiple_resolutions(consumer)
            tags = { consumer_group: consumer.topic.consumer_group.id, topic: consumer.topic.name }
            yield(tags)
            yield(tags.merge(partition: consumer.partition))
          end

          def minute_probe
            count('processes_count', 1, {})
            count('threads_count', Karafka::App.config.concurrency, {})
          end
        end
      end
    end
  end
end
