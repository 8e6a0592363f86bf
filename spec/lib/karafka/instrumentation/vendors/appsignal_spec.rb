# frozen_string_literal: true

require 'spec_helper'
require 'open3'
require 'rbconfig'
require 'karafka/instrumentation/vendors/appsignal/errors_listener'
require 'karafka/instrumentation/vendors/appsignal/metrics_listener'

# Karafka's AppSignal listeners (karafka/karafka lib/karafka/instrumentation/vendors/appsignal),
# driven by the events a real job publishes through the executor. A recording client stands in
# for the appsignal gem where Karafka's specs put theirs (`config.client`); the last examples
# run the real Client against a stand-in `::Appsignal` shaped like appsignal 4's API.
RSpec.describe 'Karafka::Instrumentation::Vendors::Appsignal listeners' do
  appsignal = Karafka::Instrumentation::Vendors::Appsignal

  let(:monitor) { Karafka::Instrumentation::Monitor.new }
  let(:executor) { Karafka::ActiveJob::Executor.new(monitor) }
  let(:group) { Karafka::App.config.consumer_group_id }
  let(:client) { recording_client }
  let(:errors_listener) { appsignal::ErrorsListener.new { |config| config.client = client } }
  let(:metrics_listener) { appsignal::MetricsListener.new { |config| config.client = client } }

  # Every call the listeners make, in order: the whole interface of Karafka's Client.
  def recording_client
    Class.new do
      attr_reader :calls

      def initialize = @calls = []
      def start_transaction(action_name) = calls << [:start_transaction, action_name]
      def stop_transaction = calls << [:stop_transaction]
      define_method(:metadata=) { |metadata| calls << [:metadata, metadata] }
      def count(key, value, tags) = calls << [:count, key, value, tags]
      def gauge(key, value, tags) = calls << [:gauge, key, value, tags]
      def report_error(error) = calls << [:report_error, error]
      def register_probe(name, probe) = calls << [:register_probe, name, probe]
    end.new
  end

  before do
    stub_const('BillingJob', Class.new(ActiveJob::Base) do
      def perform(value)
        raise FixtureError, 'card declined' if value == 'fail'
      end
    end)
  end

  def run_job(value, offset:, partition: 2, attempt: 0)
    executor.call(JSON.generate(BillingJob.new(value).serialize), 'billing', partition, offset, nil, nil, attempt)
  end

  def both_resolutions(partition = 2)
    [{ consumer_group: group, topic: 'billing' }, { consumer_group: group, topic: 'billing', partition: partition }]
  end

  describe appsignal::MetricsListener do
    it "has Karafka's settings and defaults, changeable in the block or with #setup" do
      listener = described_class.new
      expect(listener.namespace).to eq('karafka')
      expect(listener.client).to be_a(appsignal::Client)
      expect(listener.rd_kafka_metrics.map(&:name)).to eq(
        %w[requests_retries transmission_errors receive_errors connection_connects connection_disconnects
           network_latency_avg network_latency_p95 network_latency_p99 consumer_lag consumer_lag_delta]
      )
      expect(listener.config.aggregated_rd_kafka_metrics.map(&:name)).to eq(['consumer_aggregated_lag'])

      listener.setup { |config| config.namespace = 'payments' }
      expect(listener.namespace).to eq('payments')
      expect(described_class.new.namespace).to eq('karafka') # each listener has its own settings
      expect { described_class.new { |config| config.namepsace = 'x' } }.to raise_error(NoMethodError, /namepsace=/)
    end

    it "wraps a real job in a transaction with Karafka's action name and metadata, then counts it at both resolutions" do
      monitor.subscribe(metrics_listener)
      expect(run_job('ok', offset: 40)).to be(Karafka::ActiveJob::Outcome::SUCCESS)

      expect(client.calls).to eq(
        [[:start_transaction, 'Karafka::ActiveJob::Consumer#consume'],
         [:metadata, { batch_size: 1, first_offset: 40, last_offset: 40, consumer_group: group, topic: 'billing',
                       partition: 2, attempt: 1 }],
         *both_resolutions.flat_map do |tags|
           [[:count, 'karafka_consumer_messages', 1, tags], [:count, 'karafka_consumer_batches', 1, tags],
            [:gauge, 'karafka_consumer_offsets', 40, tags]]
         end,
         [:stop_transaction]]
      )
    end

    it 'prefixes every metric with the configured namespace' do
      listener = described_class.new do |config|
        config.client = client
        config.namespace = 'payments'
      end
      monitor.subscribe(listener)
      run_job('ok', offset: 1)

      expect(client.calls.select { |call| call.first == :count }.map { |call| call[1] }.uniq)
        .to eq(%w[payments_consumer_messages payments_consumer_batches])
    end

    it 'counts a failing job as consumer_errors, reports its retry attempt and closes its transaction' do
      monitor.subscribe(metrics_listener)
      run_job('fail', offset: 7, partition: 1, attempt: 2)

      expect(client.calls).to eq(
        [[:start_transaction, 'Karafka::ActiveJob::Consumer#consume'],
         [:metadata, { batch_size: 1, first_offset: 7, last_offset: 7, consumer_group: group, topic: 'billing',
                       partition: 1, attempt: 3 }],
         *both_resolutions(1).map { |tags| [:count, 'karafka_consumer_errors', 1, tags] },
         [:stop_transaction]]
      )
    end

    it 'counts a dead-lettered job as consumer_dead; a failed dispatch is an error that only closes the transaction' do
      monitor.subscribe(metrics_listener)
      executor.dead_lettered('billing', 2, 9, 'billing-dlq', 4, nil)
      executor.dead_lettered('billing', 2, 10, 'billing-dlq', 4, 'Broker: Message size too large')

      expect(client.calls).to eq(
        [*both_resolutions.map { |tags| [:count, 'karafka_consumer_dead', 1, tags] },
         [:stop_transaction]] # error.occurred 'dead_letter_queue.dispatch_error': not a consumer_errors
      )
    end

    it 'registers its minutely probe once the app runs, never before, and once only' do
      monitor.subscribe(metrics_listener)
      expect(client.calls).to be_empty

      2.times { monitor.instrument('app.running', { topics: [] }) }
      expect(client.calls.map { |call| call.first(2) }).to eq([%i[register_probe karafka]])

      client.calls.first.last.call
      expect(client.calls.drop(1)).to eq([[:count, 'karafka_processes_count', 1, {}],
                                          [:count, 'karafka_threads_count', Karafka::App.config.concurrency, {}]])
    end

    describe 'librdkafka statistics' do
      # A consumer's statistics as librdkafka emits them (trimmed to the keys near the ones
      # read): a bootstrap broker and a real one; partition 0 fetched, 1 no longer fetched
      # (revoked), 2 without lag yet, and librdkafka's internal -1.
      def librdkafka_json(lag:, retries:, rtt_avg:)
        partition = lambda do |id, fetch_state, consumer_lag|
          { 'partition' => id, 'broker' => 1, 'leader' => 1, 'fetch_state' => fetch_state, 'query_offset' => -1001,
            'next_offset' => 120, 'app_offset' => 120, 'stored_offset' => 120, 'committed_offset' => 118,
            'lo_offset' => 0, 'hi_offset' => 120 + consumer_lag, 'ls_offset' => 120 + consumer_lag,
            'consumer_lag' => consumer_lag, 'consumer_lag_stored' => consumer_lag, 'rxmsgs' => 120, 'msgs' => 120 }
        end
        broker = lambda do |name, nodeid, txretries, avg|
          { 'name' => name, 'nodeid' => nodeid, 'nodename' => '10.0.0.5:9092', 'source' => 'learned', 'state' => 'UP',
            'txretries' => txretries, 'txerrs' => 0, 'rxerrs' => 0, 'connects' => 1, 'disconnects' => 0,
            'rtt' => { 'min' => avg / 2, 'max' => avg * 4, 'avg' => avg, 'p50' => avg, 'p95' => avg * 2,
                       'p99' => avg * 3, 'cnt' => 12 } }
        end
        JSON.generate(
          'name' => 'karafka_rs_spec#consumer-1', 'client_id' => 'karafka_rs_spec', 'type' => 'consumer',
          'ts' => 5_000_000, 'time' => 1_700_000_000, 'replyq' => 0, 'msg_cnt' => 0,
          'brokers' => { '10.0.0.5:9092/bootstrap' => broker.call('10.0.0.5:9092/bootstrap', -1, 0, 0),
                         '10.0.0.5:9092/1' => broker.call('10.0.0.5:9092/1', 1, retries, rtt_avg) },
          'topics' => { 'billing' => { 'topic' => 'billing', 'metadata_age' => 900, 'partitions' => {
            '0' => partition.call(0, 'active', lag), '1' => partition.call(1, 'stopped', 3),
            '2' => partition.call(2, 'active', -1), '-1' => partition.call(-1, 'none', -1)
          } } },
          'cgrp' => { 'state' => 'up', 'join_state' => 'steady', 'rebalance_cnt' => 1 }
        )
      end

      def metric(name)
        client.calls.select { |call| call[1] == "karafka_#{name}" }.map { |call| call.values_at(0, 2, 3) }
      end

      it "reports Karafka's rdkafka metrics from statistics.emitted, with deltas from one emission to the next" do
        monitor.subscribe(metrics_listener)
        statistics = Karafka::Instrumentation::Statistics.new(monitor, group)
        statistics.publish(librdkafka_json(lag: 8, retries: 1, rtt_avg: 1_500))
        client.calls.clear
        statistics.publish(librdkafka_json(lag: 5, retries: 4, rtt_avg: 2_000))

        partition0 = { consumer_group: group, topic: 'billing', partition: '0' }
        broker = { broker: '10.0.0.5:9092' }
        expect(metric('consumer_lag')).to eq([[:gauge, 5, partition0]])
        expect(metric('consumer_lag_delta')).to eq([[:gauge, -3, partition0]])
        # The aggregate sums every partition with a known lag, fetched or not (as Karafka's).
        expect(metric('consumer_aggregated_lag')).to eq([[:gauge, 8, { consumer_group: group, topic: 'billing' }]])
        expect(metric('requests_retries')).to eq([[:count, 3, broker]])
        expect(metric('network_latency_avg')).to eq([[:gauge, 2_000, broker]])
        expect(metric('network_latency_p95')).to eq([[:gauge, 4_000, broker]])
        expect(metric('network_latency_p99')).to eq([[:gauge, 6_000, broker]])
        expect(metric('connection_connects')).to eq([[:count, 0, broker]])
        # Eight broker metrics for the real broker, two for the one fetched partition, the aggregate.
        expect(client.calls.size).to eq(11)
      end

      it 'reports the metrics an app lists in rd_kafka_metrics instead' do
        listener = described_class.new do |config|
          config.client = client
          config.rd_kafka_metrics = [described_class::RdKafkaMetric.new(:gauge, :topics, 'consumer_lag_raw', 'consumer_lag'),
                                     described_class::RdKafkaMetric.new(:gauge, :root, 'ignored', 'ts')]
          config.aggregated_rd_kafka_metrics = []
        end
        monitor.subscribe(listener)
        Karafka::Instrumentation::Statistics.new(monitor, group).publish(librdkafka_json(lag: 8, retries: 0, rtt_avg: 1))

        expect(client.calls).to eq([[:gauge, 'karafka_consumer_lag_raw', 8, { consumer_group: group, topic: 'billing', partition: '0' }]])
      end
    end
  end

  describe appsignal::ErrorsListener do
    it "has Karafka's one setting, the client" do
      expect(described_class.new.client).to be_a(appsignal::Client)
      expect(described_class::Settings.members).to eq([:client])
    end

    it "reports a failing job's error object; the metrics listener subscribed after it counts it and closes the transaction" do
      monitor.subscribe(errors_listener)
      monitor.subscribe(metrics_listener)
      run_job('fail', offset: 3)

      reported = client.calls.select { |call| call.first == :report_error }.map(&:last)
      expect(reported.map { |error| [error.class, error.message] }).to eq([[FixtureError, 'card declined']])
      expect(client.calls.map(&:first).last(4)).to eq(%i[report_error count count stop_transaction])
    end

    it 'reports the errors a producer monitor publishes (Karafka.producer.monitor), e.g. an undelivered async message' do
      producer = Karafka::Producer.new(kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 100 })
      producer.monitor.subscribe(errors_listener)
      producer.produce_async(topic: 'billing', payload: 'x')
      producer.close(5_000)

      expect(client.calls.map { |call, error| [call, error.class, error.code] })
        .to eq([[:report_error, Karafka::Errors::ProduceError, :msg_timed_out]])
    end
  end

  # The real Client, against a stand-in for the appsignal gem (its 4.x calls the Client makes).
  describe appsignal::Client do
    let(:gem_calls) { [] }

    before do
      calls = gem_calls
      transaction_class = Struct.new(:namespace, :action, :metadata, :errors, :completed) do
        # rubocop:disable Naming/AccessorMethodName -- the appsignal gem's names
        def set_action_if_nil(action) = (self.action ||= action)
        def set_metadata(key, value) = metadata.store(key, value)
        def set_namespace(namespace) = (self.namespace = namespace)
        # rubocop:enable Naming/AccessorMethodName
        def add_error(error) = errors << error
      end
      transactions = Module.new do
        define_singleton_method(:create) { |namespace| (calls << transaction_class.new(namespace, nil, {}, [], false)).last }
        define_singleton_method(:current) { calls.grep(transaction_class).reject(&:completed).last }
        define_singleton_method(:current?) { !current.nil? }
        define_singleton_method(:complete_current!) { current.completed = true }
      end
      transactions.const_set(:BACKGROUND_JOB, 'background_job')
      gem = Module.new do
        define_singleton_method(:increment_counter) { |*args| calls << [:increment_counter, *args] }
        define_singleton_method(:set_gauge) { |*args| calls << [:set_gauge, *args] }
        # appsignal 4: into the current transaction when there is one, else a new one.
        define_singleton_method(:report_error) do |error, &block|
          transaction = transactions.current || transactions.create('http_request')
          block&.call(transaction)
          transaction.add_error(error)
        end
      end
      gem.const_set(:VERSION, '4.0.1')
      gem.const_set(:Transaction, transactions)
      stub_const('Appsignal', gem)
    end

    let(:errors_listener) { appsignal::ErrorsListener.new }
    let(:metrics_listener) { appsignal::MetricsListener.new }

    it "has Karafka's client interface, all of which the recording client above stands in for" do
      expect(described_class.public_instance_methods(false).sort)
        .to eq(%i[count gauge metadata= register_probe report_error start_transaction stop_transaction])
      expect(recording_client.class.public_instance_methods(false) - [:calls]).to match_array(described_class.public_instance_methods(false))
    end

    it 'opens each job’s transaction in the background_job namespace with its metadata, and closes it' do
      monitor.subscribe(errors_listener)
      monitor.subscribe(metrics_listener)
      run_job('ok', offset: 40)

      transaction = gem_calls.first
      expect(transaction.to_a).to eq(
        ['background_job', 'Karafka::ActiveJob::Consumer#consume',
         { 'batch_size' => '1', 'first_offset' => '40', 'last_offset' => '40', 'consumer_group' => group,
           'topic' => 'billing', 'partition' => '2', 'attempt' => '1' }, [], true]
      )
      expect(gem_calls.drop(1).first(2)).to eq(
        [[:increment_counter, 'karafka_consumer_messages', 1, { 'consumer_group' => group, 'topic' => 'billing' }],
         [:increment_counter, 'karafka_consumer_batches', 1, { 'consumer_group' => group, 'topic' => 'billing' }]]
      )
      expect(gem_calls).to include([:set_gauge, 'karafka_consumer_offsets', 40,
                                    { 'consumer_group' => group, 'topic' => 'billing', 'partition' => '2' }])
    end

    it 'puts a failing job’s error into that job’s transaction, in the namespace the app chose' do
      listener = appsignal::ErrorsListener.new { |config| config.client = described_class.new(namespace_name: 'kafka') }
      monitor.subscribe(listener)
      monitor.subscribe(appsignal::MetricsListener.new { |config| config.client = described_class.new(namespace_name: 'kafka') })
      run_job('fail', offset: 3)

      transactions = gem_calls.grep_v(Array)
      expect(transactions.map { |t| [t.namespace, t.action, t.errors.map(&:message), t.completed] })
        .to eq([['kafka', 'Karafka::ActiveJob::Consumer#consume', ['card declined'], true]])
    end

    it 'reports an error outside any job (a producer’s) in a new transaction in the background_job namespace' do
      producer_monitor = Karafka::Instrumentation::Monitor.new
      producer_monitor.subscribe(errors_listener)
      error = Karafka::Errors::ProduceError.new('msg_timed_out: Local: Message timed out', code: :msg_timed_out)
      producer_monitor.instrument('error.occurred', { type: 'librdkafka.dispatch_error', error: error, topic: 'billing' })

      expect(gem_calls.map { |t| [t.namespace, t.errors] }).to eq([['background_job', [error]]])
    end
  end

  it 'loads as Karafka’s docs require it, in a fresh process without the appsignal gem, starting no thread' do
    lib = File.expand_path('../../../../../lib', __dir__)
    script = <<~RUBY
      require 'karafka'
      Karafka::App.setup do |config|
        config.kafka = { 'bootstrap.servers': '127.0.0.1:1' }
        config.logger = Logger.new(IO::NULL) # librdkafka's "connection refused" lines
      end
      Karafka.producer # its threads (librdkafka's log writer) are not the listeners'
      threads = Thread.list.size

      require 'karafka/instrumentation/vendors/appsignal/errors_listener'
      appsignal_errors_listener = ::Karafka::Instrumentation::Vendors::Appsignal::ErrorsListener.new
      Karafka.monitor.subscribe(appsignal_errors_listener)
      Karafka.producer.monitor.subscribe(appsignal_errors_listener)

      require 'karafka/instrumentation/vendors/appsignal/metrics_listener'
      appsignal_metrics_listener = ::Karafka::Instrumentation::Vendors::Appsignal::MetricsListener.new
      Karafka.monitor.subscribe(appsignal_metrics_listener)

      puts [defined?(::Appsignal).inspect, Thread.list.size - threads,
            Karafka.monitor.listeners.map(&:class).inspect, Karafka.producer.monitor.listeners.size].join(' ')
    RUBY
    out, err, status = Open3.capture3(RbConfig.ruby, '-I', lib, '-e', script)

    expect([err, status.success?]).to eq(['', true])
    expect(out.strip).to eq('nil 0 [Karafka::Instrumentation::Vendors::Appsignal::ErrorsListener, ' \
                            'Karafka::Instrumentation::Vendors::Appsignal::MetricsListener] 1')
  end
end
