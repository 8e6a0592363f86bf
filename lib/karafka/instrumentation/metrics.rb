# frozen_string_literal: true

require_relative 'vendors/http_server'

module Karafka
  module Instrumentation
    # Counters and gauges of a running server, kept from Karafka's events, for a StatsD or
    # Prometheus exporter to read: `metrics = Metrics.new; Karafka.monitor.subscribe(metrics)`,
    # then `metrics.snapshot` from any thread, or `port:` for a built-in `GET /metrics` in
    # Prometheus' text format (bound on `app.running`, like the probes).
    #
    # - `jobs_processed`, `jobs_failed`, `jobs_retried`, `jobs_dead_lettered`: counters, in
    #   total and per topic (`worker.processed`, `error.occurred` of a job, `consumer.consuming.pause`,
    #   `dead_letter_queue.dispatched`). A job failing twice then succeeding counts 2 failed,
    #   2 retried, 1 processed.
    # - `busy` / `enqueued`: jobs running on workers and buffered, sampled every second from
    #   `connection.listener.fetch_loop`; `concurrency` is `config.concurrency`.
    # - `consumer_lag`: per topic and partition, librdkafka's `consumer_lag` from
    #   `statistics.emitted` (needs `'statistics.interval.ms'` in `config.kafka`); -1 (unknown)
    #   is left out.
    #
    # Costs one event per job (worker.processed, which is always built) and a mutex; nothing
    # when not subscribed.
    class Metrics
      COUNTERS = %i[jobs_processed jobs_failed jobs_retried jobs_dead_lettered].freeze

      # @param port [Integer, nil] serve `GET /metrics` (Prometheus text) on this port
      # @param hostname [String, nil]
      def initialize(port: nil, hostname: nil)
        @port = port
        @hostname = hostname
        @mutex = Mutex.new
        # topic => [processed, failed, retried, dead lettered] (totals are summed on read)
        @by_topic = {}
        @lag = {}
        @load = { busy: 0, enqueued: 0 }
      end

      # @return [Hash] a copy: `{ jobs_processed: 3, ..., topics: { "t" => { jobs_processed: 3, ... } },
      #   consumer_lag: { "t" => { 0 => 12 } }, busy: 1, enqueued: 4, concurrency: 5 }`
      def snapshot
        @mutex.synchronize do
          topics = @by_topic.transform_values { |counts| COUNTERS.zip(counts).to_h }
          totals = COUNTERS.to_h { |name| [name, topics.each_value.sum { |counts| counts[name] }] }
          { **totals, topics: topics, consumer_lag: @lag.transform_values(&:dup), **@load, concurrency: Karafka::App.config.concurrency }
        end
      end

      # @return [String] {#snapshot} in Prometheus' text exposition format
      def to_prometheus
        data = snapshot
        lines = COUNTERS.flat_map do |name|
          ["# TYPE karafka_#{name}_total counter",
           *data[:topics].map { |topic, counts| "karafka_#{name}_total{topic=#{quote(topic)}} #{counts[name]}" }]
        end
        lines << '# TYPE karafka_consumer_lag gauge'
        data[:consumer_lag].each do |topic, partitions|
          partitions.each { |partition, lag| lines << "karafka_consumer_lag{topic=#{quote(topic)},partition=\"#{partition}\"} #{lag}" }
        end
        %i[busy enqueued concurrency].each { |name| lines.push("# TYPE karafka_#{name} gauge", "karafka_#{name} #{data[name]}") }
        "#{lines.join("\n")}\n"
      end

      # @param _event [Monitor::Event]
      def on_app_running(_event)
        return unless @port

        @http = Vendors::HttpServer.new(@hostname, @port) do |path|
          path == '/metrics' ? [200, 'text/plain; version=0.0.4', to_prometheus] : [404, 'text/plain', "not found\n"]
        end.start
      end

      # @param _event [Monitor::Event]
      def on_app_stopped(_event)
        @http&.stop
      end

      # @param event [Monitor::Event]
      def on_worker_processed(event)
        count(0, event[:topic])
      end

      # @param event [Monitor::Event]
      def on_error_occurred(event)
        count(1, event[:topic]) if event[:type] == 'consumer.consume.error'
      end

      # @param event [Monitor::Event]
      def on_consumer_consuming_pause(event)
        count(2, event[:topic])
      end

      # @param event [Monitor::Event]
      def on_dead_letter_queue_dispatched(event)
        count(3, event[:topic])
      end

      # @param event [Monitor::Event]
      def on_connection_listener_fetch_loop(event)
        queue = event[:jobs_queue] or return
        statistics = queue.statistics
        @mutex.synchronize { @load = { busy: statistics[:busy], enqueued: statistics[:enqueued] } }
      end

      # @param event [Monitor::Event]
      def on_statistics_emitted(event)
        topics = event[:statistics]['topics'] or return
        lag = topics.to_h do |topic, data|
          partitions = (data['partitions'] || {}).each_with_object({}) do |(partition, stats), out|
            id = Integer(partition)
            out[id] = stats['consumer_lag'] if id >= 0 && stats['consumer_lag'].is_a?(Integer) && stats['consumer_lag'] >= 0
          end
          [topic, partitions]
        end
        @mutex.synchronize { @lag = lag.reject { |_, partitions| partitions.empty? } }
      end

      private

      # @param index [Integer] position in {COUNTERS}
      def count(index, topic)
        @mutex.synchronize { (@by_topic[topic] ||= [0, 0, 0, 0])[index] += 1 }
      end

      def quote(value)
        %("#{value.to_s.gsub(/[\\"\n]/) { |char| char == "\n" ? '\n' : "\\#{char}" }}")
      end
    end
  end
end
