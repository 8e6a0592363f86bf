# frozen_string_literal: true

require 'spec_helper'

# The rest of WaterDrop's producer API that an app may call on `Karafka.producer` or on a
# `WaterDrop::Producer` of its own (WaterDrop's Usage, Middleware and Labeling docs), against
# the real broker.
RSpec.describe 'WaterDrop’s producer API' do
  let(:kafka) { Karafka::App.config.kafka }

  it 'sets a producer up after new, as WaterDrop’s docs do, once only' do
    topic = create_topic('waterdrop-setup')
    producer = WaterDrop::Producer.new
    expect { producer.produce_sync(topic: topic, payload: 'x') }.to raise_error(Karafka::Errors::ProduceError, /call #setup first/)
    expect(WaterDrop::Producer.new.close).to be(true) # one never set up closes (at exit too)
    expect(WaterDrop::Producer.new.undelivered_count).to eq(0) # what the exit flush reads

    producer.setup { |config| config.kafka = kafka }
    expect(producer.produce_sync(topic: topic, payload: 'my message').offset).to eq(0)
    expect { producer.setup { nil } }.to raise_error(Karafka::Errors::InvalidConfigurationError, /set up already/)
  ensure
    producer&.close(0) unless producer&.closed?
  end

  it 'answers id, status, config, idempotent?, transactional? and partition_count; close! closes' do
    topic = create_topic('waterdrop-readers', partitions: 3)
    producer = WaterDrop::Producer.new do |config|
      config.kafka = kafka.merge('enable.idempotence': true)
      config.id = 'billing-producer'
    end

    expect([producer.id, producer.config.id, producer.status.to_s, producer.status.active?])
      .to eq(['billing-producer', 'billing-producer', 'connected', true])
    expect([producer.idempotent?, producer.transactional?, Karafka.producer.idempotent?]).to eq([true, false, false])
    expect(producer.partition_count(topic)).to eq(3)
    expect { producer.transaction { nil } }.to raise_error(Karafka::Errors::UnsupportedFeatureError, /transactions are not in karafka-rs/)
    expect(producer.close!).to be(true)
    expect([producer.status.to_s, producer.status.closed?, producer.closed?]).to eq(['closed', true, true])
  end

  it 'publishes through a custom WaterDrop::Instrumentation::Monitor subclass given as config.monitor' do
    topic = create_topic('waterdrop-custom-monitor')
    intercepted = []
    monitor_class = Class.new(WaterDrop::Instrumentation::Monitor) do
      define_method(:initialize) do |bus = WaterDrop::Instrumentation::Notifications.new, namespace = nil|
        super(bus, namespace)
      end
      define_method(:instrument) do |event_id, event = EMPTY_HASH, &block|
        intercepted << event_id if event_id.start_with?('message.produced')
        super(event_id, event, &block)
      end
    end
    producer = WaterDrop::Producer.new do |config|
      config.kafka = kafka
      config.monitor = monitor_class.new
    end
    delivered = []
    producer.monitor.subscribe('message.produced_sync') { |event| delivered << [event[:message][:payload], event[:producer_id]] }

    producer.produce_sync(topic: topic, payload: 'traced')

    expect([intercepted, delivered]).to eq([['message.produced_sync'], [['traced', producer.id]]])
  ensure
    producer&.close(0)
  end

  it 'runs the middleware on every message, jobs’ own dispatches included, and in its variants' do
    topic = create_topic('waterdrop-middleware')
    producer = Karafka::Producer.new(kafka: kafka)
    producer.middleware.append(lambda do |message|
      message[:headers] = (message[:headers] || {}).merge('tenant' => 'acme')
      message
    end)
    producer.middleware.prepend(->(message) { message.merge(key: 'k') })
    job_class = Class.new(RecordingJob) { karafka_options(dispatch_method: :produce_sync) }
    stub_const('MiddlewareJob', job_class)
    MiddlewareJob.karafka_options(producer: ->(_job) { producer })

    producer.produce_sync(topic: topic, payload: 'plain')
    producer.with(topic_config: { acks: 'all' }).produce_sync(topic: topic, payload: 'variant')
    MiddlewareJob.set(queue: topic).perform_later('job')

    messages = Karafka::Admin.read_topic(topic, 0, 3)
    expect(messages.map { |m| [m.key, m.headers['tenant']] }).to eq([%w[k acme]] * 3)
    expect(JSON.parse(messages.last.raw_payload)['job_class']).to eq('MiddlewareJob')
  ensure
    producer&.close(0)
  end

  it 'keeps each message’s label on its delivery handle and report, sync and async (WaterDrop’s Labeling doc)' do
    topic = create_topic('waterdrop-labels')
    producer = Karafka::Producer.new(kafka: kafka)

    expect(producer.produce_sync(topic: topic, payload: 'a', label: 'unique-id').label).to eq('unique-id')
    expect(producer.produce_sync(topic: topic, payload: 'unlabelled').label).to be_nil
    many = producer.produce_many_sync(Array.new(3) { |i| { topic: topic, payload: 'b', label: { type: :sync, n: i } } })
    expect(many.map(&:label)).to eq(Array.new(3) { |i| { type: :sync, n: i } })

    message = { topic: topic, payload: 'c' }
    message[:label] = message # the doc's self-reference
    handle = producer.produce_async(message)
    expect(handle.label).to be(message)
    expect(handle.wait.label).to be(message)
    handles = producer.produce_many_async(Array.new(3) { |i| { topic: topic, payload: 'd', label: { type: :async, n: i } } })
    expect(handles.map(&:label)).to eq(Array.new(3) { |i| { type: :async, n: i } })
    expect(handles.map { |h| h.wait.label }).to eq(handles.map(&:label))
    # Delivered labels are forgotten (a producer of labelled messages must not grow), and so
    # are those of a dispatch that raised (its second message is over message.max.bytes).
    expect { producer.produce_many_async([{ topic: topic, payload: 'e', label: 1 }, { topic: topic, payload: 'x' * 2_000_000, label: 2 }]) }
      .to raise_error(Karafka::Errors::ProduceError, /MessageSizeTooLarge/)
    kept = -> { producer.instance_variable_get(:@labels).size }
    expect(wait_until(message: 'the delivered messages’ labels to be forgotten') { kept.call.zero? }).to be(true)
  ensure
    producer&.close(0)
  end

  it 'gives a failed async message’s label to error.occurred in its delivery_report, also when nobody kept the handle' do
    topic = create_topic('waterdrop-label-failure')
    producer = Karafka::Producer.new(kafka: kafka)
    failed = Queue.new
    producer.monitor.subscribe('error.occurred') do |event|
      if event[:type] == 'librdkafka.dispatch_error'
        failed << [event[:delivery_report].label, event[:delivery_report].partition, event[:label], event[:producer_id]]
      end
    end

    producer.produce_async(topic: topic, payload: 'x', partition: 5, label: { type: :async, id: 42 }) # no partition 5
    producer.produce_many_async([{ topic: topic, payload: 'ok', label: 'fine' }, { topic: topic, payload: 'y', partition: 7, label: 'lost-7' }])
    reported = Array.new(2) { wait_until(message: 'both failures reported') { failed.empty? ? nil : failed.pop } }

    expect(reported).to contain_exactly([{ type: :async, id: 42 }, 5, { type: :async, id: 42 }, producer.id], ['lost-7', 7, 'lost-7', producer.id])
    expect(wait_until(message: 'every label settled') { producer.instance_variable_get(:@labels).size.zero? }).to be(true)
  ensure
    producer&.close(0)
  end

  it 'publishes message.acknowledged for each delivered message, with its delivery_report and label, only while someone listens' do
    topic = create_topic('waterdrop-acknowledged')
    producer = Karafka::Producer.new(kafka: kafka)
    producer.produce_async(topic: topic, payload: 'unheard', label: 'before').wait # nobody listens yet: not reported
    acked = Queue.new
    producer.monitor.subscribe('message.acknowledged') do |event|
      acked << [event[:delivery_report].label, event[:offset], event[:delivery_report].offset, event[:topic], event[:producer_id]]
    end
    heard = lambda do |count|
      Array.new(count) { wait_until(message: 'the acknowledgements') { acked.empty? ? nil : acked.pop } }
    end

    producer.produce_sync(topic: topic, payload: 'sync', label: 'sync')
    expect(heard.call(1)).to eq([['sync', 1, 1, topic, producer.id]])
    producer.produce_many_async(Array.new(3) { |i| { topic: topic, payload: 'async', label: "a#{i}" } })
    producer.produce_rows_async([Karafka::Native::OutgoingMessage.new(topic, 'job-like', nil, nil, nil, [])]) # jobs' path
    expect(heard.call(4).sort_by { |row| row[1] }).to eq([['a0', 2, 2, topic, producer.id], ['a1', 3, 3, topic, producer.id],
                                                          ['a2', 4, 4, topic, producer.id], [nil, 5, 5, topic, producer.id]])
    expect(acked).to be_empty
    expect(producer.instance_variable_get(:@labels).size).to eq(0)

    # What is delivered while the producer closes (its reporter stopped first) is heard too.
    producer.produce_many_async(Array.new(3) { |i| { topic: topic, payload: 'closing', label: "c#{i}" } })
    expect(producer.close(10_000)).to be(true)
    expect(Array.new(acked.size) { acked.pop }.map(&:first).sort).to eq(%w[c0 c1 c2])
  ensure
    producer&.close(0)
  end

  it 'gives the messages a closing producer gives up on their labels in error.occurred' do
    stalled = Karafka::Producer.new(kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 60_000 })
    lost = []
    stalled.monitor.subscribe('error.occurred') { |event| lost << [event[:type], event[:delivery_report].label, event[:producer_id]] }
    stalled.produce_async(topic: 'nowhere', payload: 'x', label: { order: 7 })

    expect(stalled.close(0)).to be(false)
    expect(lost).to eq([['librdkafka.dispatch_error', { order: 7 }, stalled.id]])
  end

  # WaterDrop's Error-Handling doc: a ProduceError is "instrumented as error.occurred so we
  # don't need to re-raise it", and a ProduceManyError's `dispatched` has the handles of what
  # may have reached Kafka ("those without handles were for sure not delivered").
  it 'publishes a sync dispatch that raised as error.occurred, after each refused message’s dispatch_error, and names what may have been dispatched' do
    topic = create_topic('waterdrop-sync-errors')
    producer = Karafka::Producer.new(kafka: kafka)
    errors = []
    producer.monitor.subscribe('error.occurred') { |event| errors << event }

    expect { producer.produce_sync(topic: topic, payload: 'x', partition: 5) }.to raise_error(WaterDrop::Errors::ProduceError) do |error|
      expect(errors.map { |e| [e[:type], e[:producer_id]] })
        .to eq([['librdkafka.dispatch_error', producer.id], ['message.produce_sync', producer.id]])
      expect([errors.first[:delivery_report].partition, errors.first[:error].code]).to eq([5, :unknown_partition])
      expect([errors.last[:error], errors.last[:message][:payload]]).to eq([error, 'x'])
    end
    errors.clear
    batch = [{ topic: topic, payload: 'ok', label: 'kept' }, { topic: topic, payload: 'bad', partition: 7, label: 'gone' }]
    expect { producer.produce_many_sync(batch) }.to raise_error(WaterDrop::Errors::ProduceManyError) do |error|
      expect(error.dispatched.map(&:label)).to eq(['kept'])
      expect(error.dispatched.first.wait.offset).to eq(0)
      expect(errors.map { |e| [e[:type], e[:label]] }).to eq([['librdkafka.dispatch_error', 'gone'], ['messages.produce_many_sync', nil]])
      expect([errors.last[:error], errors.last[:messages].size, errors.last[:dispatched]]).to eq([error, 2, error.dispatched])
    end
    errors.clear
    expect { producer.produce_async(topic: topic, payload: 'x' * 2_000_000) }.to raise_error(WaterDrop::Errors::ProduceError, /MessageSizeTooLarge/)
    expect(errors.map { |e| [e[:type], e[:message][:topic]] }).to eq([['message.produce_async', topic]])
  ensure
    producer&.close(0)
  end

  it 'publishes a job whose sync dispatch failed as error.occurred on its producer, before perform_later raises' do
    topic = create_topic('waterdrop-job-sync-error')
    producer = Karafka::Producer.new(kafka: kafka.merge('message.timeout.ms': 200, 'bootstrap.servers': '127.0.0.1:1'))
    errors = []
    producer.monitor.subscribe('error.occurred') { |event| errors << [event[:type], event[:topic] || event[:message][:topic], event[:error].class] }
    job_class = Class.new(RecordingJob) { karafka_options(dispatch_method: :produce_sync) }
    stub_const('FailingSyncJob', job_class)
    FailingSyncJob.karafka_options(producer: ->(_job) { producer })

    expect { FailingSyncJob.set(queue: topic).perform_later('x') }.to raise_error(Karafka::Errors::DeliveryError)
    expect(errors).to eq([['librdkafka.dispatch_error', topic, Karafka::Errors::DeliveryError],
                          ['message.produce_sync', topic, Karafka::Errors::DeliveryError]])
  ensure
    producer&.close(0)
  end

  it 'sets the timestamp a message is given, as a Time or as milliseconds, and rejects any other' do
    topic = create_topic('waterdrop-timestamp')
    at = Time.at(1_700_000_000, 123, :millisecond)

    Karafka.producer.produce_sync(topic: topic, payload: 'time', timestamp: at)
    Karafka.producer.produce_async(topic: topic, payload: 'ms', timestamp: 1_600_000_000_456).wait
    Karafka.producer.produce_sync(topic: topic, payload: 'now')

    stamps = Karafka::Admin.read_topic(topic, 0, 3).map { |m| [m.raw_payload, (m.timestamp.to_r * 1000).to_i] }
    expect(stamps.first(2)).to eq([['time', 1_700_000_000_123], ['ms', 1_600_000_000_456]])
    expect(stamps.last.last).to be_within(60_000).of((Time.now.to_r * 1000).to_i)
    expect { Karafka.producer.produce_sync(topic: topic, payload: 'x', timestamp: '2024-01-01') }
      .to raise_error(Karafka::Errors::MessageInvalidError, /timestamp must be a Time or an Integer/)
  end

  it 'keeps tags, as WaterDrop’s producer does' do
    Karafka.producer.tags.add(:team, 'payments')
    expect(Karafka.producer.tags.to_a).to eq(['payments'])
  ensure
    Karafka.producer.tags.clear
  end
end
