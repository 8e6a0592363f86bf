# frozen_string_literal: true

require 'spec_helper'
require 'socket'

# What the server's consumer of one consumer group subscribes to and connects with, built from
# `setup` and the routes (no engine is built: no broker).
RSpec.describe Karafka::Server::EngineSettings do
  let(:group) { "settings-#{SecureRandom.hex(4)}" }
  let(:monitor) { Karafka::Instrumentation::Monitor.new }
  # An app of its own: `setup` is Karafka::App's, the routes are this example's.
  let(:app) do
    Class.new do
      def self.config = Karafka::App.config
      def self.routes = @routes ||= Karafka::Routing::Builder.new
    end
  end

  after { configure_spec_app }

  def setup_with(kafka: {}, **settings)
    Karafka::App.reset!
    Karafka::App.setup do |config|
      config.kafka = { 'bootstrap.servers': '127.0.0.1:9092', **kafka }
      config.client_id = 'billing'
      config.group_id = group
      settings.each { |key, value| config.public_send(:"#{key}=", value) }
    end
  end

  def settings_for(group_id = nil)
    described_class.new(app, monitor, group_id)
  end

  # The librdkafka settings the engine gets, as a Hash of Strings.
  def kafka_of(settings)
    settings.send(:kafka).to_h
  end

  it 'subscribes to the active job topics and schedules topics routed in its own consumer group' do
    setup_with
    app.routes.draw do
      active_job_topic :invoices
      active_job_topic(:paused) { active false }
      active_job_pattern(/_reports$/)
      scheduled_messages :invoices_schedules
      consumer_group :mailers do
        active_job_topic :emails
        scheduled_messages :emails_schedules
      end
    end

    default = settings_for
    mailers = settings_for('mailers')

    expect([default.group_id, default.job_topics, default.schedule_topics])
      .to eq([group, ['invoices', '^.*_reports$'], ['invoices_schedules']])
    expect([mailers.group_id, mailers.job_topics, mailers.schedule_topics]).to eq(['mailers', ['emails'], ['emails_schedules']])
  end

  it 'connects with config.kafka plus the group, client id and initial_offset, the user’s own entries winning' do
    setup_with(kafka: { 'auto.offset.reset': 'earliest', 'topic.metadata.refresh.interval.ms': 60_000, 'fetch.wait.max.ms': 25 },
               initial_offset: 'latest')
    app.routes.draw { active_job_topic :invoices }

    kafka = kafka_of(settings_for)

    expect(kafka).to include('bootstrap.servers' => '127.0.0.1:9092', 'group.id' => group, 'client.id' => 'billing',
                             'auto.offset.reset' => 'earliest', 'topic.metadata.refresh.interval.ms' => '60000',
                             'fetch.wait.max.ms' => '25')
    expect(kafka.values).to all(be_a(String))
  end

  it 'takes initial_offset as auto.offset.reset and refreshes topic metadata every 5 s unless told otherwise' do
    setup_with(initial_offset: 'latest')
    app.routes.draw { active_job_topic :invoices }

    expect(kafka_of(settings_for)).to include('auto.offset.reset' => 'latest', 'topic.metadata.refresh.interval.ms' => '5000')
  end

  it 'names a consumer_group block’s group by its name, whatever config.kafka says' do
    setup_with(kafka: { 'group.id': 'from-kafka-settings' })
    app.routes.draw do
      active_job_topic :invoices
      consumer_group(:mailers) { active_job_topic :emails }
    end

    expect(kafka_of(settings_for('mailers'))).to include('group.id' => 'mailers')
    expect(kafka_of(settings_for)).to include('group.id' => 'from-kafka-settings')
  end

  it 'asks librdkafka for statistics every 5 s only when someone listens to statistics.emitted' do
    setup_with
    app.routes.draw { active_job_topic :invoices }

    expect(kafka_of(settings_for)).not_to have_key('statistics.interval.ms')
    monitor.subscribe('statistics.emitted') { |_event| nil }
    expect(kafka_of(settings_for)).to include('statistics.interval.ms' => '5000')
  end

  describe 'static membership' do
    before { app.routes.draw { active_job_topic :invoices } }

    it 'is on by default: a group.instance.id naming the client, the host and the subscribed topics' do
      setup_with
      settings = settings_for
      kafka = kafka_of(settings)

      tag = Karafka::Server::StaticMembership.topics_tag(['invoices'])
      expect(settings.instance_id).to match(/\Abilling-#{Regexp.escape(Socket.gethostname)}-\d+-#{tag}\z/)
      expect(kafka['group.instance.id']).to eq(settings.instance_id)
    end

    it 'takes the group.instance.id given in config.kafka, and false there for dynamic membership' do
      setup_with(kafka: { 'group.instance.id': 'billing-pod-0' })
      given = settings_for
      expect(kafka_of(given)['group.instance.id']).to eq('billing-pod-0')
      expect(given.instance_id).to eq('billing-pod-0')

      setup_with(kafka: { 'group.instance.id': false })
      dynamic = settings_for
      expect(kafka_of(dynamic)).not_to have_key('group.instance.id')
      expect(dynamic.instance_id).to be_nil
    end
  end

  # The engine holds back the messages of virtual-partitioned topics until Ruby's
  # partitioners gave each a lane; this stands in for it.
  describe 'virtual partitions' do
    let(:engine) do
      Class.new do
        attr_reader :lanes

        def initialize(held)
          @held = held
        end

        # a Karafka::Native::Unclassified per held message
        def _unclassified = @held

        def _classify(lanes)
          @lanes = lanes
        end
      end
    end

    def held(topic, *keys)
      keys.each_with_index.map { |key, offset| Karafka::Native::Unclassified.new(topic, 0, offset, key.b, {}) }
    end

    it 'gives each message the lane of its partitioner’s value, over max_partitions lanes or config.concurrency' do
      setup_with(concurrency: 3)
      app.routes.draw do
        active_job_topic(:capped) { virtual_partitions(partitioner: ->(message) { message.key }, max_partitions: 2) }
        active_job_topic(:wide) { virtual_partitions(partitioner: ->(message) { message.key }) }
      end
      keys = %w[user-1 user-2 user-3 user-4]
      capped = engine.new(held('capped', *keys))
      wide = engine.new(held('wide', *keys))

      settings_for.classify(capped)
      settings_for.classify(wide)

      expect(capped.lanes).to eq(keys.map { |key| key.sum % 2 })
      expect(wide.lanes).to eq(keys.map { |key| key.sum % 3 })
    end

    it 'runs a message whose partitioner raises in lane 0 and reports the error with where the message is' do
      setup_with(concurrency: 4)
      app.routes.draw do
        active_job_topic(:orders) do
          virtual_partitions(partitioner: ->(message) { message.key == 'bad' ? raise(ArgumentError, 'no key') : message.key })
        end
      end
      errors = []
      monitor.subscribe('error.occurred') { |event| errors << event }
      held = Karafka::Native::Unclassified
      orders = engine.new([held.new('orders', 1, 5, 'bad'.b, {}), held.new('orders', 1, 6, 'user-3'.b, {})])

      settings_for.classify(orders)

      expect(orders.lanes).to eq([0, 'user-3'.sum % 4])
      expect(errors.map { |e| [e[:type], e[:error].message, e[:topic], e[:partition], e[:offset]] })
        .to eq([['virtual_partitions.partitioner', 'no key', 'orders', 1, 5]])
    end
  end
end
