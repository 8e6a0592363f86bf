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

  it 'keeps tags, as WaterDrop’s producer does' do
    Karafka.producer.tags.add(:team, 'payments')
    expect(Karafka.producer.tags.to_a).to eq(['payments'])
  ensure
    Karafka.producer.tags.clear
  end
end
