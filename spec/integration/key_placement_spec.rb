# frozen_string_literal: true

require 'spec_helper'
require 'zlib'

# A Karafka app switching to karafka-rs keeps each key's partition: WaterDrop (rdkafka-ruby)
# leaves librdkafka's default partitioner, consistent_random (CRC32 of the key modulo the
# partition count), in place for `key` and hashes `partition_key` with it too. Ruby's
# Zlib.crc32 is that CRC32, computed outside karafka-rs.
RSpec.describe 'Key placement (migration from Karafka)' do
  let(:keys) { Array.new(40) { |i| "user-#{i}" } + ['zażółć', 'a'] }

  def waterdrop_partition(key, partitions)
    Zlib.crc32(key) % partitions
  end

  # Admin.read_topic's messages (Hashes today, Karafka's message objects later).
  def field(message, name)
    message.is_a?(Hash) ? message[name] : message.public_send(name)
  end

  it 'puts keyed messages where WaterDrop with librdkafka’s default partitioner puts them' do
    topic = create_topic('placement-key', partitions: 7)
    placed = keys.map { |key| Karafka.producer.produce_sync(topic: topic, payload: 'k', key: key).partition }

    expect(placed).to eq(keys.map { |key| waterdrop_partition(key, 7) })
  end

  it 'puts partition_key messages where WaterDrop puts them, without a message key' do
    topic = create_topic('placement-partition-key', partitions: 7)
    ascii = keys.grep(/\A[a-z0-9-]+\z/)
    placed = ascii.map { |key| Karafka.producer.produce_sync(topic: topic, payload: 'p', partition_key: key).partition }

    expect(placed).to eq(ascii.map { |key| waterdrop_partition(key, 7) })
    expect(field(Karafka::Admin.read_topic(topic, placed.first, 1).first, :key)).to be_nil
  end

  it 'hashes a multibyte partition_key’s first String#size bytes, as rdkafka-ruby does' do
    topic = create_topic('placement-multibyte', partitions: 97)
    key = 'ключ-7'
    placed = Karafka.producer.produce_sync(topic: topic, payload: 'p', partition_key: key).partition

    expect(placed).to eq(Zlib.crc32(key.byteslice(0, key.size)) % 97)
  end

  it 'honours partitioner from config.kafka for key and partition_key alike (murmur2_random: the Java client)' do
    topic = create_topic('placement-murmur2', partitions: 7)
    java = Karafka::Producer.new(kafka: Karafka::App.config.kafka.merge(partitioner: 'murmur2_random'))
    ascii = keys.grep(/\A[a-z0-9-]+\z/)
    by_key = ascii.map { |key| java.produce_sync(topic: topic, payload: 'k', key: key).partition }
    by_partition_key = ascii.map { |key| java.produce_sync(topic: topic, payload: 'p', partition_key: key).partition }

    expect(by_partition_key).to eq(by_key)
    expect(by_key).not_to eq(ascii.map { |key| waterdrop_partition(key, 7) })
    # Kafka's murmur2 vector: toPositive(murmur2("21")) % 7, as the Java client computes it.
    expect(java.produce_sync(topic: topic, payload: 'v', partition_key: '21').partition).to eq((-973_932_308 & 0x7fffffff) % 7)
    java.close(0)
  end

  it 'places an Active Job’s partition_key like Karafka’s dispatcher over WaterDrop' do
    topic = create_topic('placement-job', partitions: 5)
    job_class = Class.new(ActiveJob::Base) do
      def self.name = 'PlacementJob'
      karafka_options(partitioner: ->(job) { job.arguments.first }, partition_key_type: :partition_key,
                      dispatch_method: :produce_sync)
      def perform(*); end
    end
    stub_const('PlacementJob', job_class)
    keys.first(10).each { |key| PlacementJob.new(key).tap { |job| job.queue_name = topic }.enqueue }

    placed = (0...5).flat_map do |partition|
      count = Karafka::Admin.watermark_offsets(topic, partition).last
      Karafka::Admin.read_topic(topic, partition, count).map { |m| [JSON.parse(field(m, :raw_payload) || field(m, :payload))['arguments'].first, partition] }
    end
    expect(placed.sort).to eq(keys.first(10).map { |key| [key, waterdrop_partition(key, 5)] }.sort)
  end
end
