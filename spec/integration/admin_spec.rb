# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::Admin do
  it 'creates topics with the topic-level settings given (Karafka: create_topic(name, partitions, rf, config))' do
    topic = "admin-config-#{SecureRandom.hex(4)}"
    expect(described_class.create_topic(topic, 1, 1, 'max.message.bytes': 2_048)).to be(true)

    expect(Karafka.producer.produce_sync(topic: topic, payload: 'small').offset).to eq(0)
    # The broker enforces the topic's own limit: the same message that fits the client's
    # default (1 MB) is refused here.
    expect { Karafka.producer.produce_sync(topic: topic, payload: 'x' * 4_096) }
      .to raise_error(Karafka::Errors::ProduceError, /too large/i)
  ensure
    described_class.delete_topic(topic)
  end

  it 'passes the replication factor on (one broker cannot hold two replicas)' do
    topic = "admin-replicas-#{SecureRandom.hex(4)}"

    expect { described_class.create_topic(topic, 1, 2) }.to raise_error(Karafka::Errors::BaseError, /replication/i)
    expect(described_class.topics).not_to have_key(topic)
  end

  it 'reads messages back with their timestamps' do
    topic = create_topic('admin-read')
    before = Time.now
    Karafka.producer.produce_sync(topic: topic, payload: 'stamped', key: 'k')
    after = Time.now

    message = described_class.read_topic(topic, 0, 1).first
    expect(message).to include(offset: 0, key: 'k', payload: 'stamped')
    # Millisecond precision: allow for the truncation at both ends.
    expect(message[:timestamp]).to be_between(before - 0.001, after + 0.001)
  end
end
