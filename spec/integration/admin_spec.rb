# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::Admin do
  it 'creates topics with the topic-level settings given (Karafka: create_topic(name, partitions, rf, config))' do
    topic = "admin-config-#{SecureRandom.hex(4)}"
    expect(described_class.create_topic(topic, 1, 1, 'max.message.bytes': 2_048)).to be(true)

    # Again: Karafka's error, which apps rescue as karafka-rdkafka's and read its code.
    expect { described_class.create_topic(topic, 1) }.to raise_error(Rdkafka::RdkafkaError) { |e|
      expect(e.code).to eq(:topic_already_exists)
    }
    expect(described_class.create_topic_unless_exists(topic, 1)).to be(false)

    expect(Karafka.producer.produce_sync(topic: topic, payload: 'small').offset).to eq(0)
    # The broker enforces the topic's own limit: the same message that fits the client's
    # default (1 MB) is refused here.
    expect { Karafka.producer.produce_sync(topic: topic, payload: 'x' * 4_096) }
      .to raise_error(Karafka::Errors::ProduceError, /too large/i)
  ensure
    described_class.delete_topic(topic)
  end

  it 'returns from create_topic, create_partitions and delete_topic once the metadata shows the change, as Karafka does' do
    topic = "admin-metadata-#{SecureRandom.hex(4)}"
    described_class.create_topic(topic, 2)
    # At once: no unknown topic or partition in the gap before the brokers' metadata has it.
    expect(described_class.topics[topic]).to eq(2)
    expect(described_class.read_watermark_offsets(topic, 1)).to eq([0, 0])

    described_class.create_partitions(topic, 3)
    expect(described_class.topics[topic]).to eq(3)
    expect(Karafka.producer.produce_sync(topic: topic, partition: 2, payload: 'x').partition).to eq(2)

    expect(described_class.delete_topic(topic)).to be(true)
    expect(described_class.topics).not_to have_key(topic)
  end

  it 'passes the replication factor on (one broker cannot hold two replicas)' do
    topic = "admin-replicas-#{SecureRandom.hex(4)}"

    expect { described_class.create_topic(topic, 1, 2) }.to raise_error(Karafka::Errors::BaseError, /replication/i)
    expect(described_class.topics).not_to have_key(topic)
  end

  describe '.read_topic' do
    let(:topic) { create_topic('admin-read') }

    before do
      5.times { |i| Karafka.producer.produce_sync(topic: topic, payload: JSON.generate('n' => i), key: "k#{i}", headers: { 'h' => i.to_s }) }
    end

    it "returns Karafka's message objects: raw and JSON-deserialized payload, key, headers, metadata" do
      before = Time.now
      Karafka.producer.produce_sync(topic: topic, payload: '{"n":5}', key: 'k5', headers: { 'h' => '5' })
      after = Time.now

      message = described_class.read_topic(topic, 0, 1).first
      expect(message).to be_a(Karafka::Messages::Message)
      expect(message.raw_payload).to eq('{"n":5}')
      expect(message.payload).to eq('n' => 5)
      expect(message).to be_deserialized
      expect([message.key, message.headers, message.offset, message.partition, message.topic])
        .to eq(['k5', { 'h' => '5' }, 5, 0, topic])
      expect(message.metadata.offset).to eq(5)
      # Millisecond precision: allow for the truncation at both ends.
      expect(message.timestamp).to be_a(Time).and be_between(before - 0.001, after + 0.001)
      expect(message).not_to be_tombstone
    end

    it 'deserializes with the route’s deserializers, else those of the routes’ defaults block' do
      name = topic
      upcase = ->(metadata) { metadata.raw_key.upcase }
      Karafka::App.routes.draw do
        defaults { deserializers(payload: ->(message) { message.raw_payload.size }) }
        topic(name) do
          active false
          deserializers(payload: ->(message) { JSON.parse(message.raw_payload).fetch('n') * 10 }, key: upcase)
        end
      end

      routed = described_class.read_topic(topic, 0, 1).first
      expect([routed.payload, routed.key, routed.headers]).to eq([40, 'K4', { 'h' => '4' }])
      Karafka::App.routes.clear
      Karafka::App.routes.draw { defaults { deserializer(->(message) { message.raw_payload.size }) } }
      expect(described_class.read_topic(topic, 0, 1).first.payload).to eq('{"n":4}'.size)
    ensure
      Karafka::App.routes.clear
    end

    it 'reads the last N messages by default, from an offset, from N back, and never waits for more' do
      expect(described_class.read_topic(topic, 0, 2).map(&:offset)).to eq([3, 4])
      expect(described_class.read_topic(topic, 0, 2, 1).map(&:offset)).to eq([1, 2])
      expect(described_class.read_topic(topic, 0, 2, -2).map(&:offset)).to eq([2, 3])
      expect(described_class.read_topic(topic, 0, 10, 3).map(&:offset)).to eq([3, 4])
      expect(described_class.read_topic(topic, 0, 10).map(&:offset)).to eq([0, 1, 2, 3, 4])
      expect(described_class.read_topic(topic, 0, 3, 5)).to eq([])
    end

    it 'reads from a Time' do
      from = Time.now + 3_600 # later than the five before it, whatever the clock's resolution
      Karafka.producer.produce_sync(topic: topic, payload: '{"n":5}', timestamp: from)

      expect(described_class.read_topic(topic, 0, 10, from).map(&:offset)).to eq([5])
      expect(described_class.read_topic(topic, 0, 10, from + 60)).to eq([])
    end

    it 'hands payloads that are not JSON raw, and fails only when payload is asked for' do
      Karafka.producer.produce_sync(topic: topic, payload: 'not json')
      message = described_class.read_topic(topic, 0, 1).first

      expect(message.raw_payload).to eq('not json')
      expect { message.payload }.to raise_error(JSON::ParserError)
    end
  end

  it 'reads watermark offsets one partition at a time or for several topics at once' do
    topic = create_topic('admin-marks', partitions: 2)
    3.times { Karafka.producer.produce_sync(topic: topic, payload: 'x', partition: 1) }

    expect(described_class.read_watermark_offsets(topic, 1)).to eq([0, 3])
    expect(described_class.read_watermark_offsets(topic => [0, 1])).to eq(topic => { 0 => [0, 0], 1 => [0, 3] })
  end

  it 'grows partitions and describes the cluster and a topic like Karafka' do
    topic = create_topic('admin-grow')
    expect(described_class.create_partitions(topic, 3)).to be(true)

    info = wait_until(message: 'three partitions in the metadata') do
      found = described_class.topic_info(topic)
      found if found[:partition_count] == 3
    end
    expect(info[:topic_name]).to eq(topic)
    expect(info[:partitions].map { |p| p[:partition_id] }).to eq([0, 1, 2])
    expect(info[:partitions].first).to include(:leader, :replicas, :isrs, replica_count: 1)

    cluster = described_class.cluster_info
    expect(cluster.brokers.first).to include(:broker_id, :broker_name, :broker_port)
    expect(cluster.topics.map { |t| t[:topic_name] }).to include(topic)
    expect { described_class.topic_info("admin-missing-#{SecureRandom.hex(4)}") }
      .to raise_error(Karafka::Errors::AdminError, /unknown topic/)
    expect { described_class.create_partitions(topic, 2) }.to raise_error(Karafka::Errors::AdminError, /partitions/i)
  end

  describe 'consumer groups' do
    let(:topic) { create_topic('admin-groups', partitions: 2) }
    let(:group) { unique_group('admin') }

    before do
      4.times { Karafka.producer.produce_sync(topic: topic, payload: 'x', partition: 0) }
      2.times { Karafka.producer.produce_sync(topic: topic, payload: 'x', partition: 1) }
    end

    it 'seeks a group to offsets, to earliest / latest and to a time, and reads its lags' do
      expect(described_class.read_lags_with_offsets({ group => [topic] }))
        .to eq(group => { topic => { 0 => { offset: -1, lag: -1 }, 1 => { offset: -1, lag: -1 } } })

      described_class.seek_consumer_group(group, topic => { 0 => 1, 1 => :latest })
      expect(described_class.read_lags_with_offsets({ group => [topic] }))
        .to eq(group => { topic => { 0 => { offset: 1, lag: 3 }, 1 => { offset: 2, lag: 0 } } })

      described_class.seek_consumer_group(group, topic => :earliest)
      expect(committed_offsets(group)).to eq(0 => 0, 1 => 0)

      described_class.seek_consumer_group(group, topic => Time.now + 60)
      expect(committed_offsets(group)).to eq(0 => 4, 1 => 2)

      described_class.seek_consumer_group(group, topic => false) # Karafka's other spelling of the start
      expect(committed_offsets(group)).to eq(0 => 0, 1 => 0)
    end

    it 'reads the lags of the routed topics by default (active ones only, unless asked)' do
      name = topic
      Karafka::App.routes.draw do
        consumer_group(:admin_lags) { active_job_topic(name) }
      end
      described_class.seek_consumer_group('admin_lags', topic => 1)

      expect(described_class.read_lags_with_offsets)
        .to eq('admin_lags' => { topic => { 0 => { offset: 1, lag: 3 }, 1 => { offset: 1, lag: 1 } } })
      Karafka::App.routes.topics.each { |route| route.active(false) }
      expect(described_class.read_lags_with_offsets).to eq({})
      expect(described_class.read_lags_with_offsets(active_topics_only: false).keys).to eq(['admin_lags'])
    ensure
      Karafka::App.routes.clear
      described_class.delete_consumer_group('admin_lags')
    end

    it 'copies, renames and deletes groups' do
      copy = unique_group('admin-copy')
      renamed = unique_group('admin-renamed')
      described_class.seek_consumer_group(group, topic => { 0 => 3, 1 => 1 })

      expect(described_class.copy_consumer_group(group, copy, [topic])).to be(true)
      expect(committed_offsets(copy)).to eq(0 => 3, 1 => 1)
      expect(committed_offsets(group)).to eq(0 => 3, 1 => 1)

      expect(described_class.rename_consumer_group(copy, renamed, [topic])).to be(true)
      expect(committed_offsets(renamed)).to eq(0 => 3, 1 => 1)
      expect(committed_offsets(copy)).to eq(0 => -1, 1 => -1)

      expect(described_class.copy_consumer_group(unique_group('admin-none'), copy, [topic])).to be(false)
      expect(described_class.delete_consumer_group(renamed)).to be(true)
      expect(committed_offsets(renamed)).to eq(0 => -1, 1 => -1)
      expect(described_class.delete_consumer_group(renamed)).to be(false)
    end

    def committed_offsets(group_id)
      described_class.committed_offsets(group_id, topic)
    end
  end

  it 'works on another cluster through an instance (Karafka::Admin.new(kafka:))' do
    # The instance's own settings reach its client (librdkafka rejects this one at once).
    admin = described_class.new(kafka: { 'no.such.setting': 'x' })
    expect { admin.cluster_info }.to raise_error(Karafka::Errors::InvalidKafkaConfigError, /no.such.setting/)
    expect(described_class.new.cluster_info.brokers).not_to be_empty
  end

  describe Karafka::Admin::Configs do
    it 'describes a topic and a broker, and alters a topic keeping its other settings' do
      topic = "admin-configs-#{SecureRandom.hex(4)}"
      Karafka::Admin.create_topic(topic, 1, 1, 'max.message.bytes': 2_048, 'cleanup.policy': 'delete')
      resource = described_class::Resource.new(type: :topic, name: topic)

      configs = described_class.describe(resource).first.configs.to_h { |config| [config.name, config] }
      expect(configs['max.message.bytes']).to have_attributes(value: '2048', default?: false, read_only?: false)
      expect(configs['retention.ms']).to have_attributes(default?: true)

      resource.set('retention.ms', '7200000').append('cleanup.policy', 'compact').delete('max.message.bytes')
      expect(described_class.alter(resource)).to be(true)
      values = described_class.describe(resource).first.configs.to_h { |config| [config.name, config.value] }
      expect(values.slice('retention.ms', 'cleanup.policy')).to eq('retention.ms' => '7200000', 'cleanup.policy' => 'delete,compact')
      expect(values['max.message.bytes']).not_to eq('2048')

      broker_id = Karafka::Admin.cluster_info.brokers.first[:broker_id]
      broker = described_class.describe(described_class::Resource.new(type: :broker, name: broker_id)).first
      expect(broker.configs.map(&:name)).to include('log.retention.hours')
      expect { described_class.alter(broker.set('log.retention.hours', '1')) }
        .to raise_error(Karafka::Errors::UnsupportedFeatureError, /kafka-configs/)
    ensure
      Karafka::Admin.delete_topic(topic)
    end

    it 'raises naming a change the broker rejected, which the Rust client reports as applied' do
      topic = "admin-configs-rejected-#{SecureRandom.hex(4)}"
      Karafka::Admin.create_topic(topic, 1, 1, 'retention.ms': 604_800_000)
      resource = described_class::Resource.new(type: :topic, name: topic)

      expect { described_class.alter(resource.set('retention.ms', '-100')) }
        .to raise_error(Karafka::Errors::AdminError, /did not apply retention.ms = "-100" \(reads "604800000"\) to topic #{topic}/)
      values = described_class.describe(resource).first.configs.to_h { |config| [config.name, config.value] }
      expect(values['retention.ms']).to eq('604800000')
    ensure
      Karafka::Admin.delete_topic(topic)
    end
  end

  it 'names what to use instead of the rdkafka clients and the replication planner Karafka has' do
    expect { described_class.with_consumer { nil } }
      .to raise_error(Karafka::Errors::UnsupportedFeatureError, /read_topic/)
    expect { described_class.plan_topic_replication(topic: 'x', replication_factor: 3) }
      .to raise_error(Karafka::Errors::UnsupportedFeatureError, /kafka-reassign-partitions/)
    expect(described_class.new.close).to be_nil
  end

  it 'triggers a rebalance of a running consumer group' do
    topic = create_topic('admin-rebalance')
    group = unique_group('admin-rebalance')
    output = File.join(Dir.tmpdir, "admin-rebalance-#{SecureRandom.hex(4)}.jsonl")
    server = ServerProcess.new(topics: [topic], group: group, output: output).start
    wait_until(message: -> { "the first assignment; log:\n#{server.log}" }) { server.log.include?("Assigned partitions: #{topic}/0") }
    Karafka::App.config.group_id = group
    name = topic
    Karafka::App.routes.draw { active_job_topic(name) }

    expect(described_class.trigger_rebalance(group)).to be(true)
    wait_until(message: -> { "a revocation and a new assignment; log:\n#{server.log}" }) do
      server.log.include?("Revoked partitions: #{topic}/0") && server.log.scan("Assigned partitions: #{topic}/0").size >= 2
    end
    expect { described_class.trigger_rebalance('not-routed') }.to raise_error(Karafka::Errors::AdminError, /no routed topics/)
  ensure
    server&.ensure_stopped
    Karafka::App.routes.clear
    configure_spec_app
  end
end
