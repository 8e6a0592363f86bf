# frozen_string_literal: true

require 'spec_helper'

# The producer's message checks (WaterDrop's message contract): what `produce_*` accepts, and
# the error a bad message raises before anything is sent.
RSpec.describe Karafka::Producer::Message do
  # What the producer sends, read back as a message Hash (the native row stays opaque here).
  def sent(message)
    described_class.from_row(described_class.to_row(message))
  end

  it 'takes WaterDrop’s message fields, with Symbol topic and header names as Strings, and drops empty ones' do
    expect(sent(topic: :orders, payload: 'p', key: 'k', headers: { trace: 'abc' }))
      .to eq(topic: 'orders', payload: 'p', key: 'k', headers: { 'trace' => 'abc' })
    expect(sent(topic: 'orders', payload: nil, partition_key: 'acct', partition: 0, headers: {}))
      .to eq(topic: 'orders', partition_key: 'acct', partition: 0)
  end

  {
    'an empty topic' => [{ topic: '', payload: 'p' }, /topic must be a non-empty String or Symbol/],
    'no topic' => [{ payload: 'p' }, /topic must be a non-empty String or Symbol/],
    'a payload that is not a String' => [{ topic: 't', payload: 1 }, /payload must be a String or nil \(topic: "t"\)/],
    'a Symbol key' => [{ topic: 't', payload: 'p', key: :k }, /key must be a String or nil/],
    'a partition key that is not a String' => [{ topic: 't', payload: 'p', partition_key: 7 }, /partition_key must be a String or nil/],
    'a negative partition' => [{ topic: 't', payload: 'p', partition: -1 }, /partition must be an Integer >= 0 or nil/],
    'a partition given as a String' => [{ topic: 't', payload: 'p', partition: '1' }, /partition must be an Integer >= 0 or nil/],
    'headers that are not a Hash' => [{ topic: 't', payload: 'p', headers: [%w[a b]] }, /headers must be a Hash of String => String/],
    'a header value that is not a String' => [{ topic: 't', payload: 'p', headers: { 'a' => 1 } }, /headers must be a Hash/]
  }.each do |what, (message, error)|
    it "refuses #{what}, naming the field and the topic" do
      expect { described_class.to_row(message) }.to raise_error(Karafka::Errors::MessageInvalidError, error)
    end
  end

  it 'refuses what is not a Hash' do
    expect { described_class.to_row('orders') }
      .to raise_error(Karafka::Errors::MessageInvalidError, 'message must be a Hash, got String')
  end

  it 'is checked by the producer for every message before any is sent' do
    producer = Karafka::Producer.new(kafka: { 'bootstrap.servers': '127.0.0.1:1' })
    good = { topic: 'orders', payload: 'p' }

    expect { producer.produce_many_async([good, good.merge(partition: -1)]) }
      .to raise_error(Karafka::Errors::MessageInvalidError, /partition must be an Integer >= 0/)
    expect { producer.produce_sync(good.merge(topic: '')) }.to raise_error(Karafka::Errors::MessageInvalidError)
    # Nothing was queued, so nothing is left undelivered with the broker unreachable.
    expect(producer.close(0)).to be(true)
    expect(producer.undelivered_count).to eq(0)
  end
end
