# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::Instrumentation::Monitor do
  subject(:monitor) { described_class.new }

  # Karafka 2.5's documented list (karafka/wiki Operations/Instrumentation-Events.md) and
  # WaterDrop's (WaterDrop-Instrumentation-Events), written out here so the spec does not
  # check the list against itself.
  karafka_events = %w[
    active_job.consume active_job.consumed
    app.before_warmup app.initialized app.initializing app.quiet app.quieting app.running app.stopped
    app.stopping app.supervising app.terminated
    client.events_poll client.pause client.reset client.resume
    connection.listener.after_fetch_loop connection.listener.before_fetch_loop connection.listener.fetch_loop
    connection.listener.fetch_loop.received connection.listener.pending connection.listener.quiet
    connection.listener.quieting connection.listener.running connection.listener.starting
    connection.listener.stopped connection.listener.stopping
    consumer.before_schedule_consume consumer.before_schedule_eofed consumer.before_schedule_idle
    consumer.before_schedule_revoked consumer.before_schedule_shutdown consumer.before_schedule_tick
    consumer.consume consumer.consumed consumer.consuming.pause consumer.consuming.retry
    consumer.consuming.seek consumer.consuming.transaction consumer.eof consumer.eofed consumer.idle
    consumer.initialize consumer.initialized consumer.revoke consumer.revoked consumer.shutdown
    consumer.shutting_down consumer.tick consumer.ticked consumer.wrap consumer.wrapped
    dead_letter_queue.dispatched error.occurred filtering.seek filtering.throttled
    oauthbearer.token_refresh process.notice_signal
    rebalance.partitions_assign rebalance.partitions_assigned rebalance.partitions_revoke
    rebalance.partitions_revoked statistics.emitted
    swarm.manager.after_fork swarm.manager.before_fork swarm.manager.control swarm.manager.stopping
    swarm.manager.terminating swarm.node.after_fork
    worker.completed worker.process worker.processed
  ]
  waterdrop_events = %w[
    buffer.flushed_async buffer.flushed_sync buffer.purged error.occurred
    message.acknowledged message.buffered message.produced_async message.produced_sync message.purged
    messages.buffered messages.produced_async messages.produced_sync oauthbearer.token_refresh
    producer.closed producer.closing producer.connected producer.disconnected producer.disconnecting
    producer.reload producer.reloaded statistics.emitted
    transaction.aborted transaction.committed transaction.finished transaction.marked_as_consumed
    transaction.started
  ]

  it 'lets blocks subscribe to every event Karafka 2.5 and WaterDrop document' do
    (karafka_events | waterdrop_events).each do |name|
      expect { monitor.subscribe(name) { nil } }.not_to raise_error, name
    end
    expect(monitor.available_events).to include(*karafka_events, *waterdrop_events)
  end

  it 'calls on_<event> methods of listener objects, for every documented event they answer' do
    listener = Class.new do
      attr_reader :calls

      def initialize
        @calls = []
      end

      %w[consumer.consumed active_job.consume statistics.emitted connection.listener.fetch_loop].each do |name|
        define_method(:"on_#{name.tr('.', '_')}") { |event| @calls << event.id }
      end
    end.new
    monitor.subscribe(listener)
    monitor.instrument('consumer.consumed', { caller: nil }) { nil }
    monitor.instrument('statistics.emitted', { statistics: {} })

    expect(listener.calls).to eq(%w[consumer.consumed statistics.emitted])
    expect(monitor.listening?('active_job.consume')).to be(true)
    expect(monitor.listening?('connection.listener.fetch_loop')).to be(true)
  end

  it 'lists Karafka’s and WaterDrop’s events apart, as Notifications::EVENTS, for piping them elsewhere' do
    # With karafka-rs' own events and Pro's recurring task one.
    own = %w[active_job.cancelled active_job.overdue recurring_tasks.task.executed]
    expect(Karafka::Instrumentation::Notifications::EVENTS).to match_array(karafka_events + own)
    expect(WaterDrop::Instrumentation::Notifications::EVENTS).to match_array(waterdrop_events)
    # Karafka's docs pipe every one to ActiveSupport::Notifications this way.
    piped = []
    Karafka::Instrumentation::Notifications::EVENTS.each do |name|
      monitor.subscribe(name) { |event| piped << [(name.split('.').reverse << 'karafka').join('.'), event.payload] }
    end
    monitor.instrument('consumer.consumed', { caller: :consumer }) { nil }
    expect(piped.map(&:first)).to eq(['consumed.consumer.karafka'])
    expect(piped.first.last).to include(caller: :consumer, time: Float)
  end

  it 'takes Karafka’s constructor arguments: a fresh notifications bus, no namespace' do
    expect(described_class.new(Karafka::Instrumentation::Notifications.new, nil).notifications_bus).to be_a(described_class)
    busy = Karafka::Instrumentation::Notifications.new.tap { |bus| bus.subscribe('error.occurred') { nil } }
    expect { described_class.new(busy) }.to raise_error(Karafka::Errors::UnsupportedFeatureError, /a monitor is its own bus/)
    expect { described_class.new(ActiveSupport::Notifications) }.to raise_error(Karafka::Errors::UnsupportedFeatureError, /notifications_bus Module/)
    expect { described_class.new(nil, 'karafka') }.to raise_error(Karafka::Errors::UnsupportedFeatureError, /namespace/)
  end

  it 'takes an app’s own events registered on its notifications bus, as Karafka’s docs show' do
    monitor.notifications_bus.register_event('app.custom.event')
    seen = []
    monitor.subscribe('app.custom.event') { |event| seen << [:block, event.id, event[:time].class] }
    listener = Class.new do
      attr_reader :calls

      def on_app_custom_event(event) = (@calls ||= []) << event.id
    end.new
    monitor.subscribe(listener)

    expect(monitor.instrument('app.custom.event') { 42 }).to eq(42)
    expect(seen).to eq([[:block, 'app.custom.event', Float]])
    expect(listener.calls).to eq(['app.custom.event'])
    expect(monitor.available_events).to include('app.custom.event')
    expect { described_class.new.subscribe('app.custom.event') { nil } }.to raise_error(ArgumentError, /register_event/)
  end

  # Karafka's docs wrap the monitor (OpenTelemetry, custom metrics) by overriding #instrument.
  it 'runs a subclass’s #instrument with Karafka’s EMPTY_HASH default and super, the block once' do
    stub_const('WrappingMonitor', Class.new(described_class))
    WrappingMonitor.class_eval(<<~RUBY, __FILE__, __LINE__ + 1)
      attr_reader :wrapped

      def instrument(event_id, payload = EMPTY_HASH, &block)
        return super unless event_id == 'consumer.consumed'

        (@wrapped ||= []) << event_id
        super
      end
    RUBY
    wrapping = WrappingMonitor.new
    times = []
    wrapping.subscribe('consumer.consumed') { |event| times << event[:time].class }
    runs = 0

    expect(wrapping.instrument('consumer.consumed') { runs += 1 }).to eq(1)
    expect(wrapping.instrument('app.running')).to be_nil
    expect([runs, wrapping.wrapped, times]).to eq([1, ['consumer.consumed'], [Float]])
    expect(described_class::EMPTY_HASH).to be_empty.and(be_frozen)
  end

  it 'names the list of known events when a subscription is misspelt' do
    expect { monitor.subscribe('consumer.consumd') { nil } }
      .to raise_error(ArgumentError, /unknown instrumentation event 'consumer.consumd'.*Karafka::Instrumentation::EVENTS/)
  end

  it 'forgets an unsubscribed listener' do
    listener = Object.new
    def listener.on_error_occurred(_event) = raise('must not be called')
    monitor.subscribe(listener)
    monitor.unsubscribe(listener)

    expect(monitor.listening?('error.occurred')).to be(false)
    expect { monitor.instrument('error.occurred', {}) }.not_to raise_error
  end

  it 'lists in the README every documented event karafka-rs never emits' do
    readme = File.read(File.expand_path('../../../../README.md', __dir__))
    Karafka::Instrumentation::NEVER_EMITTED.each { |name| expect(readme).to include("`#{name}`"), name }
    expect(Karafka::Instrumentation::NEVER_EMITTED & Karafka::Instrumentation::EMITTED).to be_empty
  end

  describe '#silenceable' do
    let(:quiet_listener) do
      Class.new do
        attr_accessor :silent

        def silent_on?(_event_name) = silent
        def on_worker_processed(_event) = nil
      end.new
    end

    it 'names the listeners to ask while each answers silent_on?, and nil once a block or another listener subscribes' do
      expect(monitor.silenceable('worker.processed')).to eq([])
      monitor.subscribe(quiet_listener)
      expect(monitor.silenceable('worker.processed')).to eq([quiet_listener])

      other = Object.new
      def other.on_worker_processed(_event) = nil
      monitor.subscribe(other)
      expect(monitor.silenceable('worker.processed')).to be_nil
      monitor.unsubscribe(other)
      expect(monitor.silenceable('worker.processed')).to eq([quiet_listener])

      monitor.subscribe('worker.processed') { nil }
      expect(monitor.silenceable('worker.processed')).to be_nil
    end
  end
end
