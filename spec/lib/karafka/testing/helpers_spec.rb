# frozen_string_literal: true

require 'karafka/testing/rspec/helpers'

# The helpers used in-process, in this suite (spec/integration/testing_helpers_spec.rb runs
# whole RSpec and Minitest suites with them in child processes).
RSpec.describe Karafka::Testing::RSpec::Helpers do
  include described_class

  let(:suffix) { SecureRandom.hex(4) }
  let(:ran) { [] }
  let(:job_class) do
    runs = ran
    Class.new(ActiveJob::Base) do
      define_singleton_method(:name) { 'TestingHelpersJob' }
      define_method(:perform) { |*args| runs << args }
    end
  end

  before do
    stub_const('TestingHelpersJob', job_class)
    topic = "helpers-#{suffix}"
    job_class.queue_as(topic)
    Karafka::App.routes.draw do
      active_job_topic topic
      active_job_pattern(/_visits\z/)
    end
  end

  after { configure_spec_app }

  it 'swaps Karafka.producer for the buffer inside the example only' do
    expect(Karafka.producer).to be(Karafka::Testing.producer)
    Karafka::Testing.finish_example
    expect(Karafka.producer).to be_a(Karafka::Producer)
  end

  it 'buffers every dispatch path: perform_all_later, producer variants, karafka_options(producer:)' do
    job_class.karafka_options(producer: ->(_job) { Karafka.producer.with(topic_config: { acks: 'all' }) })
    ActiveJob.perform_all_later([job_class.new(1), job_class.new(2)])
    Karafka.producer.variant(topic_config: { acks: 'all' }).produce_many_async([{ topic: 'other', payload: 'x' }])

    expect(karafka.produced_messages.map { |m| m[:topic] }).to eq(["helpers-#{suffix}", "helpers-#{suffix}", 'other'])
    karafka.consumer_for("helpers-#{suffix}").consume
    expect(ran).to eq([[1], [2]])
  end

  it 'runs a job only on consume, and every message of the test on each consume, as karafka-testing' do
    consumer = karafka.consumer_for("helpers-#{suffix}")
    job_class.perform_later(1)
    expect(ran).to eq([])
    consumer.consume
    expect(ran).to eq([[1]])
    job_class.perform_later(2)
    consumer.consume
    expect(ran).to eq([[1], [1], [2]])
  end

  it 'finds a topic an active_job_pattern routes, under its own name' do
    consumer = karafka.consumer_for('eu_visits')
    expect(consumer.topic.name).to eq('eu_visits')
    karafka.produce(job_class.new(3).serialize.to_json)
    karafka.produce(job_class.new(4).serialize.to_json, topic: 'us_visits')
    consumer.consume
    expect(ran).to eq([[3]])
  end

  it 'narrows consumer_for to a consumer group, by keyword or position' do
    group = Karafka::App.config.group_id
    expect(karafka.consumer_for("helpers-#{suffix}", consumer_group: group).consumer_group_name).to eq(group)
    expect(karafka.consumer_for("helpers-#{suffix}", group).topic.name).to eq("helpers-#{suffix}")
    expect { karafka.consumer_for("helpers-#{suffix}", consumer_group: :nope) }
      .to raise_error(Karafka::Testing::Errors::ConsumerGroupNotFoundError, /"nope"/)
  end

  it 'produce_to delivers to that consumer, and an offset: given to produce is the one consumers see' do
    consumer = karafka.consumer_for("helpers-#{suffix}")
    karafka.produce_to(consumer, job_class.new(5).serialize.to_json, 'offset' => 40)
    expect(consumer.messages.map(&:offset)).to eq([40])
    expect(karafka.consumer_messages.map(&:offset)).to eq([40])
    # The helpers' own options are not part of the produced message.
    expect(karafka.produced_messages.first.keys).to eq(%i[topic payload])
  end

  it 'asks for a topic when no consumer was built' do
    expect { karafka.produce('{}') }.to raise_error(ArgumentError, /topic:/)
  end

  it 'keeps a future job in its schedules topic, as production would' do
    job_class.karafka_options(scheduled_messages_topic: "schedules-#{suffix}")
    job_class.set(wait: 60).perform_later(6)
    message = karafka.produced_messages.first
    expect(message[:topic]).to eq("schedules-#{suffix}")
    expect(message[:headers]).to include('schedule_target_topic' => "helpers-#{suffix}")
    karafka.consumer_for("helpers-#{suffix}").consume
    expect(ran).to eq([])
  end

  it 'publishes the job events on Karafka.monitor when a consumer runs a job' do
    events = []
    Karafka.monitor.subscribe('worker.processed') { |event| events << event[:job_class] }
    job_class.perform_later(7)
    karafka.consumer_for("helpers-#{suffix}").consume
    expect(events).to eq(['TestingHelpersJob'])
  end

  context 'with a topic routed in two consumer groups' do
    # Routes as karafka-rs builds them for `consumer_group :name do ... end` blocks: every
    # topic knows its group's name.
    let(:route) { Struct.new(:name, :consumer_group, :pattern) }

    before do
      allow(Karafka::App).to receive(:routes)
        .and_return([route.new('events', 'analytics'), route.new('events', 'notifications')])
    end

    it 'asks which group, and produce_to reaches only the consumer it names' do
      expect { karafka.consumer_for(:events) }
        .to raise_error(Karafka::Testing::Errors::TopicInManyConsumerGroupsError, /analytics, notifications/)
      analytics = karafka.consumer_for(:events, consumer_group: :analytics)
      notifications = karafka.consumer_for(:events, :notifications)

      karafka.produce_to(analytics, job_class.new(8).serialize.to_json)
      expect([analytics.messages.size, notifications.messages.size]).to eq([1, 0])
      karafka.produce(job_class.new(9).serialize.to_json, topic: 'events')
      expect([analytics.messages.size, notifications.messages.size]).to eq([2, 1])
      notifications.consume
      expect(ran).to eq([[9]])
    end
  end
end
