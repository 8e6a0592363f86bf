# frozen_string_literal: true

require 'forwardable'
require_relative '../configurable'

module Karafka
  module Instrumentation
    module Vendors
      module Datadog
        # Karafka's StatsD / DogStatsD listener, set up in karafka.rb as Karafka documents it:
        #
        #   require 'datadog/statsd'
        #   require 'karafka/instrumentation/vendors/datadog/metrics_listener'
        #   dd_listener = Karafka::Instrumentation::Vendors::Datadog::MetricsListener.new do |config|
        #     config.client = Datadog::Statsd.new('localhost', 8125)
        #     config.default_tags = ["host:#{Socket.gethostname}"]
        #   end
        #   Karafka.monitor.subscribe(dd_listener)
        #
        # It reports Karafka's metric names (under `namespace`), types and tags: per job
        # `consumer.messages`, `consumer.batches`, `consumer.offset`, `consumer.consumed.time_taken`,
        # `consumer.batch_size`, `consumer.processing_lag`, `consumer.consumption_lag`
        # (tags topic, partition, consumer_group); `error_occurred` (tag type, plus the job's
        # topic, partition, consumer_group); `worker.total_threads`, `worker.processing`,
        # `worker.enqueued_jobs`; and the `rd_kafka_metrics` of each `statistics.emitted`.
        #
        # Some of Karafka's never appear, because karafka-rs never publishes their events
        # (Instrumentation::NEVER_EMITTED): `listener.polling.time_taken` / `.messages`
        # (connection.listener.fetch_loop.received), `consumer.revoked`, `consumer.shutdown`
        # and `consumer.tick` (jobs have no such hooks). Their handlers stay, so a subclass
        # calling `super` works. A batch is one job here, so `consumer.messages` and
        # `consumer.batch_size` are 1 per job, `consumer.processing_lag` is 0 (not tracked) and
        # `worker.enqueued_jobs` is 0 (the Rust scheduler's queue is not in this payload).
        class MetricsListener
          include Configurable
          extend Forwardable

          # One librdkafka statistic to report: its metric `type` (:count, :gauge, :histogram,
          # ...), `scope` (:root: once, :brokers: per broker, :topics: per partition), metric
          # `name` and `key_location` (a key, or a path of keys, in that scope's hash).
          RdKafkaMetric = Struct.new(:type, :scope, :name, :key_location)

          # Karafka's defaults. The `_d` keys are Karafka's deltas since the previous emission
          # (Instrumentation::Statistics adds them); `rxmsg_bytes` is a running total, as in Karafka.
          DEFAULT_RD_KAFKA_METRICS = [
            RdKafkaMetric.new(:count, :root, 'messages.consumed', 'rxmsgs_d'),
            RdKafkaMetric.new(:count, :root, 'messages.consumed.bytes', 'rxmsg_bytes'),
            RdKafkaMetric.new(:count, :brokers, 'consume.attempts', 'txretries_d'),
            RdKafkaMetric.new(:count, :brokers, 'consume.errors', 'txerrs_d'),
            RdKafkaMetric.new(:count, :brokers, 'receive.errors', 'rxerrs_d'),
            RdKafkaMetric.new(:count, :brokers, 'connection.connects', 'connects_d'),
            RdKafkaMetric.new(:count, :brokers, 'connection.disconnects', 'disconnects_d'),
            RdKafkaMetric.new(:gauge, :brokers, 'network.latency.avg', %w[rtt avg]),
            RdKafkaMetric.new(:gauge, :brokers, 'network.latency.p95', %w[rtt p95]),
            RdKafkaMetric.new(:gauge, :brokers, 'network.latency.p99', %w[rtt p99]),
            RdKafkaMetric.new(:gauge, :topics, 'consumer.lags', 'consumer_lag_stored'),
            RdKafkaMetric.new(:gauge, :topics, 'consumer.lags_delta', 'consumer_lag_stored_d')
          ].freeze

          # `distribution_mode: :distribution` sends the histograms as Datadog distributions
          # (aggregated server-side: exact percentiles across hosts).
          Settings = Configurable.settings(client: nil, namespace: 'karafka', default_tags: [],
                                           rd_kafka_metrics: DEFAULT_RD_KAFKA_METRICS,
                                           distribution_mode: :histogram)

          METRIC_TYPES = %i[count gauge histogram increment decrement].freeze
          DISTRIBUTION_MODES = %i[histogram distribution].freeze
          # librdkafka's fetch states of a partition this consumer does not fetch
          NOT_FETCHING = %w[stopped none].freeze

          def_delegators :config, :client, :namespace, :default_tags, :rd_kafka_metrics, :distribution_mode

          # @param event [Monitor::Event] `statistics` (librdkafka's, with the deltas), `consumer_group_id`
          def on_statistics_emitted(event)
            tags = ["consumer_group:#{event[:consumer_group_id]}", *default_tags]
            rd_kafka_metrics.each { |metric| report_statistic(metric, event[:statistics], tags) }
          end

          # @param event [Monitor::Event]
          def on_error_occurred(event)
            tags = ["type:#{event[:type]}", *default_tags]
            tags.concat(consumer_tags(event[:caller])) if event[:caller].respond_to?(:messages)
            count('error_occurred', 1, tags: tags)
          end

          # Never published by karafka-rs (see the class comment).
          # @param event [Monitor::Event]
          def on_connection_listener_fetch_loop_received(event)
            tags = ["consumer_group:#{event[:subscription_group].consumer_group.id}", *default_tags]
            histogram('listener.polling.time_taken', event[:time], tags: tags)
            histogram('listener.polling.messages', event[:messages_buffer].size, tags: tags)
          end

          # The job ran: its batch (one message here), offset, duration and lags.
          # @param event [Monitor::Event] `caller` (ActiveJob::Consumer), `time` (ms)
          def on_consumer_consumed(event)
            consumer = event[:caller]
            messages = consumer.messages
            metadata = messages.metadata
            tags = consumer_tags(consumer) + default_tags

            count('consumer.messages', messages.size, tags: tags)
            count('consumer.batches', 1, tags: tags)
            gauge('consumer.offset', metadata.last_offset, tags: tags)
            histogram('consumer.consumed.time_taken', event[:time], tags: tags)
            histogram('consumer.batch_size', messages.size, tags: tags)
            histogram('consumer.processing_lag', metadata.processing_lag, tags: tags)
            histogram('consumer.consumption_lag', metadata.consumption_lag, tags: tags)
          end

          # Never published by karafka-rs (see the class comment).
          { revoked: 'revoked', shutdown: 'shutdown', ticked: 'tick' }.each do |event_suffix, metric|
            define_method(:"on_consumer_#{event_suffix}") do |event|
              count("consumer.#{metric}", 1, tags: consumer_tags(event[:caller]) + default_tags)
            end
          end

          # @param event [Monitor::Event] `jobs_queue`
          def on_worker_process(event)
            statistics = event[:jobs_queue].statistics
            gauge('worker.total_threads', ::Karafka::App.config.concurrency, tags: default_tags)
            histogram('worker.processing', statistics[:busy], tags: default_tags)
            histogram('worker.enqueued_jobs', statistics[:enqueued], tags: default_tags)
          end

          # Sampled again after the job, so short jobs still show in the utilisation.
          # @param event [Monitor::Event] `jobs_queue`
          def on_worker_processed(event)
            histogram('worker.processing', event[:jobs_queue].statistics[:busy], tags: default_tags)
          end

          private

          # The client's calls, under `namespace` (a subclass calls them as Karafka's docs do:
          # `gauge('consumer.lag', lag, tags: tags)`).
          %i[count gauge increment decrement].each do |type|
            define_method(type) do |key, *args, **options|
              client.public_send(type, namespaced(key), *args, **options)
            end
          end

          def histogram(key, *args, **options)
            unless DISTRIBUTION_MODES.include?(distribution_mode)
              raise ArgumentError, "distribution_mode must be :histogram or :distribution, not #{distribution_mode.inspect}"
            end

            client.public_send(distribution_mode, namespaced(key), *args, **options)
          end

          def namespaced(key)
            "#{namespace}.#{key}"
          end

          def report_statistic(metric, statistics, tags)
            case metric.scope
            when :root then report_value(metric, statistics, tags)
            when :brokers
              each_broker(statistics) { |broker| report_value(metric, broker, ["broker:#{broker['nodename']}", *tags]) }
            when :topics
              each_partition(statistics) do |topic, partition, values|
                report_value(metric, values, ["topic:#{topic}", "partition:#{partition}", *tags])
              end
            else
              raise ArgumentError, "rd_kafka_metrics scope must be :root, :brokers or :topics, not #{metric.scope.inspect}"
            end
          end

          # A statistic this librdkafka does not report is skipped rather than sent empty.
          def report_value(metric, source, tags)
            raise ArgumentError, "unknown metric type #{metric.type.inspect}" unless METRIC_TYPES.include?(metric.type)

            value = source.dig(*Array(metric.key_location))
            __send__(metric.type, metric.name, value, tags: tags) unless value.nil?
          end

          # Bootstrap servers appear as brokers with node id -1 until the real ones are known.
          def each_broker(statistics)
            statistics.fetch('brokers', {}).each_value do |broker|
              yield broker unless broker['nodeid'] == -1
            end
          end

          # The partitions this consumer fetches and knows the lag of (librdkafka lists
          # partition -1 and, with -1 lags, partitions it has not fetched from yet).
          def each_partition(statistics)
            statistics.fetch('topics', {}).each do |topic, topic_values|
              topic_values.fetch('partitions', {}).each do |partition, values|
                next if partition == '-1' || NOT_FETCHING.include?(values['fetch_state'])
                next if values['consumer_lag'] == -1 || values['consumer_lag_stored'] == -1

                yield topic, partition, values
              end
            end
          end

          # Karafka's per consumer tags.
          def consumer_tags(consumer)
            metadata = consumer.messages.metadata
            ["topic:#{metadata.topic}", "partition:#{metadata.partition}",
             "consumer_group:#{consumer.topic.consumer_group.id}"]
          end
        end
      end
    end
  end
end
