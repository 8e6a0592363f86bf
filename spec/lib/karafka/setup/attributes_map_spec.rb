# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::Setup::AttributesMap do
  let(:kafka) do
    { 'bootstrap.servers': '127.0.0.1:9092', 'group.id': 'g', 'heartbeat.interval.ms': 1_000,
      'queue.buffering.max.ms': 5, 'statistics.interval.ms': 100, 'partition.assignment.strategy' => 'range' }
  end

  it 'keeps for a producer what is not consumer-only, whatever the key type' do
    expect(described_class.producer(kafka).keys)
      .to eq(%i[bootstrap.servers queue.buffering.max.ms statistics.interval.ms])
  end

  it 'keeps for a consumer what is not producer-only' do
    expect(described_class.consumer(kafka).keys)
      .to eq([:'bootstrap.servers', :'group.id', :'heartbeat.interval.ms', :'statistics.interval.ms',
              'partition.assignment.strategy'])
  end
end
