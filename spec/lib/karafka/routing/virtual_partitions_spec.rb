# frozen_string_literal: true

require 'spec_helper'

# `virtual_partitions(partitioner:, max_partitions:, reducer:)` as a route declares it, and the
# lane a message gets (spec/lib/karafka/setup_and_routing_spec.rb has the metadata the
# partitioner sees; engine_settings_spec.rb the partitioner call for the engine).
RSpec.describe Karafka::Routing::VirtualPartitions do
  def row(key, headers = {})
    Karafka::Native::Unclassified.new('orders', 0, 11, key&.b, headers)
  end

  it 'reduces the partitioner’s value with a route’s reducer instead of Karafka’s sum, modulo the lanes' do
    vp = described_class.new(partitioner: ->(message) { message.key }, reducer: ->(value) { value.delete_prefix('user-').to_i })

    expect([row('user-5'), row('user-6'), row('user-7')].map { |r| vp.lane_for(3, r) }).to eq([2, 0, 1])
  end

  it 'puts a message whose partitioner returns nil (a keyless job) in lane 0' do
    vp = described_class.new(partitioner: ->(message) { message.key })

    expect(vp.lane_for(4, row(nil))).to eq(0)
  end

  it 'lets the partitioner read headers as UTF-8 Strings' do
    vp = described_class.new(partitioner: ->(message) { message.headers.fetch('tenant') })

    expect(vp.lane_for(8, row(nil, { 'tenant' => 'zürich'.b }))).to eq('zürich'.sum % 8)
  end

  it 'answers Karafka’s raw_key / raw_headers, and names what to do instead when the partitioner asks for the payload' do
    by_raw = described_class.new(partitioner: ->(message) { [message.raw_key, message.raw_headers['h']].join })
    expect(by_raw.lane_for(100, row('k', { 'h' => 'v'.b }))).to eq('kv'.sum % 100)

    by_payload = described_class.new(partitioner: ->(message) { message.raw_payload })
    expect { by_payload.lane_for(4, row('k')) }
      .to raise_error(Karafka::Errors::UnsupportedFeatureError, /message.raw_payload is not available.*metadata only/)
  end

  it 'is declared on a route, and refuses max_partitions that are not a positive Integer, naming the topic' do
    partitioner = ->(message) { message.key }
    routes = Karafka::Routing::Builder.new.draw do
      active_job_topic(:orders) { virtual_partitions(partitioner: partitioner, max_partitions: 5) }
    end
    config = routes.topics.first.virtual_partitions_config

    expect([config.partitioner, config.max_partitions]).to eq([partitioner, 5])
    expect { Karafka::Routing::Builder.new.draw { active_job_topic(:orders) { virtual_partitions(partitioner: partitioner, max_partitions: 0) } } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError,
                      /'orders' virtual_partitions max_partitions must be an Integer greater than 0/)
  end
end
