# frozen_string_literal: true

require 'spec_helper'
require 'open3'
require 'rbconfig'
require 'karafka/instrumentation/vendors/datadog/metrics_listener'
require 'karafka/instrumentation/vendors/datadog/logger_listener'

# Karafka's Datadog listeners, set up as Karafka's docs (Operations/Monitoring-and-Logging)
# write them in karafka.rb, fed by the events karafka-rs really publishes: jobs run through an
# Executor, statistics through Instrumentation::Statistics. The statsd client and the tracer are
# the user's (`config.client`), so recording fakes stand in for them.
RSpec.describe 'Karafka::Instrumentation::Vendors::Datadog' do
  # Records each call as [method, metric, value, tags], as dogstatsd-ruby's client receives them.
  let(:statsd_class) do
    Class.new do
      attr_reader :calls

      def initialize
        @calls = []
      end

      %i[count gauge histogram distribution].each do |type|
        define_method(type) { |name, value, opts = {}| @calls << [type, name, value, opts[:tags]] }
      end

      # @return [Array] the calls for one metric
      def for(name)
        calls.select { |call| call[1] == name }
      end
    end
  end

  # Datadog::Tracing's calls the logger listener makes.
  let(:tracer_class) do
    span_class = Struct.new(:name, :service, :resource, :error, :finished) do
      def set_error(error) # rubocop:disable Naming/AccessorMethodName -- Datadog's span API
        self.error = error
      end

      def finish
        raise 'span finished twice' if finished

        self.finished = true
      end
    end

    Class.new do
      attr_reader :spans

      define_method(:initialize) { @spans = [] }
      define_method(:trace) do |name, service: nil|
        span_class.new(name, service).tap { |span| @spans << span }
      end

      def active_span
        spans.reverse.find { |span| !span.finished }
      end

      def log_correlation
        "dd.trace_id=#{spans.size} dd.span_id=#{spans.size}"
      end
    end
  end

  let(:monitor) { Karafka::Instrumentation::Monitor.new }
  let(:executor) { Karafka::ActiveJob::Executor.new(monitor) }
  let(:statsd) { statsd_class.new }
  let(:group) { Karafka::App.config.consumer_group_id }
  let(:dd_listener) do
    client = statsd
    Karafka::Instrumentation::Vendors::Datadog::MetricsListener.new do |config|
      config.client = client
      config.default_tags = ['host:spec-host']
    end
  end

  before do
    stub_const('DatadogSpecJob', Class.new(ActiveJob::Base) do
      def perform(value)
        raise FixtureError, 'datadog failure' if value == 'fail'
      end
    end)
  end

  def payload(value)
    JSON.generate(DatadogSpecJob.new(value).serialize)
  end

  describe 'MetricsListener on a job' do
    around do |example|
      concurrency = Karafka::App.config.concurrency
      Karafka::App.config.concurrency = 7
      example.run
    ensure
      Karafka::App.config.concurrency = concurrency
    end

    before { monitor.subscribe(dd_listener) }

    it 'reports Karafka’s consumer metrics with topic, partition and consumer_group tags, and the worker gauges' do
      produced_ms = ((Time.now.to_f - 3) * 1000).round
      expect(executor.call(payload('ok'), 'jobs', 2, 40, nil, nil, 0, produced_ms)).to be(Karafka::ActiveJob::Outcome::SUCCESS)

      tags = ['topic:jobs', 'partition:2', "consumer_group:#{group}", 'host:spec-host']
      expect(statsd.calls.map { |call| call.first(2) }).to eq(
        [[:gauge, 'karafka.worker.total_threads'], [:histogram, 'karafka.worker.processing'],
         [:histogram, 'karafka.worker.enqueued_jobs'],
         [:count, 'karafka.consumer.messages'], [:count, 'karafka.consumer.batches'], [:gauge, 'karafka.consumer.offset'],
         [:histogram, 'karafka.consumer.consumed.time_taken'], [:histogram, 'karafka.consumer.batch_size'],
         [:histogram, 'karafka.consumer.processing_lag'], [:histogram, 'karafka.consumer.consumption_lag'],
         [:histogram, 'karafka.worker.processing']]
      )
      expect(statsd.for('karafka.worker.total_threads')).to eq([[:gauge, 'karafka.worker.total_threads', 7, ['host:spec-host']]])
      expect(statsd.for('karafka.worker.processing').map { |call| call[2..] }).to eq([[0, ['host:spec-host']]] * 2)
      expect(statsd.for('karafka.consumer.messages')).to eq([[:count, 'karafka.consumer.messages', 1, tags]])
      expect(statsd.for('karafka.consumer.offset')).to eq([[:gauge, 'karafka.consumer.offset', 40, tags]])
      _, _, time_taken, time_tags = statsd.for('karafka.consumer.consumed.time_taken').first
      expect([time_taken.class, time_taken >= 0, time_tags]).to eq([Float, true, tags])
      _, _, lag, lag_tags = statsd.for('karafka.consumer.consumption_lag').first
      expect([lag, lag_tags]).to match([a_value_between(2_900, 10_000), tags])
    end

    it 'counts a failing job as error_occurred tagged with its type and place, and reports no consumption' do
      executor.call(payload('fail'), 'jobs', 1, 7, nil, nil, 2)
      executor.dead_lettered('jobs', 1, 7, 'jobs-dlq', 3, 'broker down')

      expect(statsd.for('karafka.error_occurred')).to eq(
        [[:count, 'karafka.error_occurred', 1,
          ['type:consumer.consume.error', 'host:spec-host', 'topic:jobs', 'partition:1', "consumer_group:#{group}"]],
         [:count, 'karafka.error_occurred', 1, ['type:dead_letter_queue.dispatch_error', 'host:spec-host']]]
      )
      expect(statsd.for('karafka.consumer.messages')).to be_empty
    end

    it 'sends the histograms as distributions under another namespace when configured so' do
      dd_listener.setup do |config|
        config.namespace = 'billing'
        config.distribution_mode = :distribution
      end
      executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0)

      expect(statsd.calls.map(&:first).uniq).to eq(%i[gauge distribution count])
      expect(statsd.calls.map { |call| call[1] }).to all(start_with('billing.'))
      expect(statsd.for('billing.consumer.consumed.time_taken').map(&:first)).to eq([:distribution])
    end

    it 'rejects a distribution_mode Datadog has no call for' do
      dd_listener.config.distribution_mode = :summary
      event = Karafka::Instrumentation::Monitor::Event.new('worker.processed', { jobs_queue: Struct.new(:statistics).new({ busy: 0 }) })

      expect { dd_listener.on_worker_processed(event) }.to raise_error(ArgumentError, /:histogram or :distribution/)
    end
  end

  describe 'MetricsListener on statistics.emitted' do
    # librdkafka's statistics JSON for a consumer, trimmed to what the listeners read: a
    # bootstrap entry beside the real broker, partition -1, a partition not fetched any more,
    # one whose lag is not known yet.
    def librdkafka_json(rxmsgs:, lag:, txretries:)
      partitions = {
        '0' => { 'partition' => 0, 'fetch_state' => 'active', 'consumer_lag' => lag, 'consumer_lag_stored' => lag },
        '1' => { 'partition' => 1, 'fetch_state' => 'stopped', 'consumer_lag' => 5, 'consumer_lag_stored' => 5 },
        '2' => { 'partition' => 2, 'fetch_state' => 'active', 'consumer_lag' => -1, 'consumer_lag_stored' => -1 },
        '-1' => { 'partition' => -1, 'fetch_state' => 'none', 'consumer_lag' => -1, 'consumer_lag_stored' => -1 }
      }
      broker = { 'txretries' => txretries, 'txerrs' => 0, 'rxerrs' => 0, 'connects' => 1, 'disconnects' => 0,
                 'rtt' => { 'avg' => 1_500, 'p95' => 3_000, 'p99' => 4_000 } }
      JSON.generate(
        'name' => 'rdkafka#consumer-1', 'type' => 'consumer', 'rxmsgs' => rxmsgs, 'rxmsg_bytes' => rxmsgs * 50,
        'brokers' => { 'localhost:9092/bootstrap' => broker.merge('nodeid' => -1, 'nodename' => 'localhost:9092'),
                       'localhost:9092/1' => broker.merge('nodeid' => 1, 'nodename' => 'localhost:9092') },
        'topics' => { 'jobs' => { 'topic' => 'jobs', 'partitions' => partitions } }
      )
    end

    def emit_twice(listener)
      monitor.subscribe(listener)
      statistics = Karafka::Instrumentation::Statistics.new(monitor, 'billing-group')
      statistics.publish(librdkafka_json(rxmsgs: 100, lag: 12, txretries: 1))
      statistics.publish(librdkafka_json(rxmsgs: 130, lag: 7, txretries: 3))
    end

    it 'reports the rdkafka metrics: per client, per broker (not the bootstrap entry), per fetched partition' do
      emit_twice(dd_listener)

      base = ['consumer_group:billing-group', 'host:spec-host']
      broker = ['broker:localhost:9092', *base]
      partition = ['topic:jobs', 'partition:0', *base]
      expect(statsd.calls.last(12)).to eq(
        [[:count, 'karafka.messages.consumed', 30, base],
         [:count, 'karafka.messages.consumed.bytes', 6_500, base],
         [:count, 'karafka.consume.attempts', 2, broker],
         [:count, 'karafka.consume.errors', 0, broker],
         [:count, 'karafka.receive.errors', 0, broker],
         [:count, 'karafka.connection.connects', 0, broker],
         [:count, 'karafka.connection.disconnects', 0, broker],
         [:gauge, 'karafka.network.latency.avg', 1_500, broker],
         [:gauge, 'karafka.network.latency.p95', 3_000, broker],
         [:gauge, 'karafka.network.latency.p99', 4_000, broker],
         [:gauge, 'karafka.consumer.lags', 7, partition],
         [:gauge, 'karafka.consumer.lags_delta', -5, partition]]
      )
      expect(statsd.calls.size).to eq(24)
    end

    it 'reports only the rd_kafka_metrics configured' do
      dd_listener.config.rd_kafka_metrics = [
        Karafka::Instrumentation::Vendors::Datadog::MetricsListener::RdKafkaMetric.new(:gauge, :root, 'messages.total', 'rxmsgs')
      ]
      emit_twice(dd_listener)

      expect(statsd.calls).to eq([[:gauge, 'karafka.messages.total', 100, ['consumer_group:billing-group', 'host:spec-host']],
                                  [:gauge, 'karafka.messages.total', 130, ['consumer_group:billing-group', 'host:spec-host']]])
    end

    it 'runs the subclass Karafka’s docs show for per-topic lag tags' do
      stub_const('CustomDatadogListener', Class.new(Karafka::Instrumentation::Vendors::Datadog::MetricsListener) do
        # As written in Karafka's docs.
        def on_statistics_emitted(event)
          statistics = event[:statistics]
          consumer_group_id = event[:consumer_group_id]

          # Report per-topic lag with topic tag
          statistics['topics'].each do |topic_name, topic_stats|
            topic_stats['partitions'].each do |partition_id, partition_stats|
              next if partition_stats['consumer_lag'] < 0

              tags = default_tags + [
                "consumer_group:#{consumer_group_id}",
                "topic:#{topic_name}",
                "partition:#{partition_id}"
              ]

              gauge('consumer.lag', partition_stats['consumer_lag'], tags: tags)
            end
          end
        end
      end)
      client = statsd
      emit_twice(CustomDatadogListener.new do |config|
        config.client = client
        config.default_tags = ['host:spec-host']
      end)

      expect(statsd.calls.last(2)).to eq(
        [[:gauge, 'karafka.consumer.lag', 7, ['host:spec-host', 'consumer_group:billing-group', 'topic:jobs', 'partition:0']],
         [:gauge, 'karafka.consumer.lag', 5, ['host:spec-host', 'consumer_group:billing-group', 'topic:jobs', 'partition:1']]]
      )
      expect(statsd.calls.size).to eq(4)
    end
  end

  describe 'LoggerListener' do
    let(:tracer) { tracer_class.new }
    let(:log) { StringIO.new }

    around do |example|
      previous = Karafka::App.config.logger
      Karafka::App.config.logger = ActiveSupport::TaggedLogging.new(Logger.new(log, level: Logger::INFO))
      example.run
    ensure
      Karafka::App.config.logger = previous
    end

    before do
      client = tracer
      monitor.subscribe(Karafka::Instrumentation::Vendors::Datadog::LoggerListener.new do |config|
        config.client = client
        config.service_name = 'billing-consumers'
      end)
    end

    it 'traces each job as a karafka.consumer span, finished when the job is, with the error of a failed one' do
      executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0)
      executor.call(payload('fail'), 'jobs', 0, 2, nil, nil, 0)

      expect(tracer.spans.map { |span| [span.name, span.service, span.resource, span.finished, span.error.class] }).to eq(
        [['karafka.consumer', 'billing-consumers', 'Karafka::ActiveJob::Consumer#consume', true, NilClass],
         ['karafka.consumer', 'billing-consumers', 'Karafka::ActiveJob::Consumer#consume', true, FixtureError]]
      )
      expect(tracer.spans.last.error.message).to eq('datadog failure')
    end

    it 'logs Karafka’s started / finished / error lines with the job id, tagged with the trace correlation' do
      ok = DatadogSpecJob.new('ok')
      failing = DatadogSpecJob.new('fail')
      executor.call(JSON.generate(ok.serialize), 'jobs', 0, 1, nil, nil, 0)
      executor.call(JSON.generate(failing.serialize), 'jobs', 0, 2, nil, nil, 0)

      lines = log.string.lines.map(&:chomp)
      expect(lines.size).to eq(4)
      expect(lines.values_at(0, 2, 3)).to eq(
        ["[dd.trace_id=1 dd.span_id=1] [#{ok.job_id}] Consume job for Karafka::ActiveJob::Consumer on jobs started",
         "[dd.trace_id=2 dd.span_id=2] [#{failing.job_id}] Consume job for Karafka::ActiveJob::Consumer on jobs started",
         '[dd.trace_id=2 dd.span_id=2] Consumer consuming error: datadog failure']
      )
      expect(lines[1]).to match(/\A\[dd.trace_id=1 dd.span_id=1\] \[#{ok.job_id}\] Consume job for Karafka::ActiveJob::Consumer on jobs finished in [\d.]+ms\z/)
    end

    it 'logs an error outside any job with its type, touching no span' do
      executor.dead_lettered('jobs', 0, 3, 'jobs-dlq', 3, 'broker down')

      expect(log.string).to eq("[dd.trace_id=0 dd.span_id=0] dead_letter_queue.dispatch_error error occurred: broker down\n")
      expect(tracer.spans).to be_empty
    end
  end

  it 'loads with the require lines of Karafka’s docs in a fresh process, and takes the documented config blocks' do
    lib = File.expand_path('../../../../../lib', __dir__)
    script = <<~RUBY
      require 'karafka'
      require 'socket'
      require 'karafka/instrumentation/vendors/datadog/metrics_listener'
      require 'karafka/instrumentation/vendors/datadog/logger_listener'
      metrics = ::Karafka::Instrumentation::Vendors::Datadog::MetricsListener.new do |config|
        config.client = Object.new
        config.default_tags = ["host:\#{Socket.gethostname}"]
      end
      tracing = Karafka::Instrumentation::Vendors::Datadog::LoggerListener.new { |config| config.client = Object.new }
      Karafka.monitor.subscribe(metrics)
      Karafka.monitor.subscribe(tracing)
      puts [metrics.namespace, metrics.default_tags == ["host:\#{Socket.gethostname}"], tracing.service_name.inspect].join(' ')
    RUBY
    out, err, status = Open3.capture3(RbConfig.ruby, '-I', lib, '-e', script)

    expect([out, err, status.success?]).to eq(["karafka true nil\n", '', true])
  end
end
