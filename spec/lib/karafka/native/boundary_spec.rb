# frozen_string_literal: true

require 'spec_helper'

# The named values Ruby hands the extension (lib/karafka/native/): the extension reads them by
# member name and refuses anything else with an error naming what it expected.
RSpec.describe Karafka::Native do
  def settings(**overrides)
    Karafka::Native::EngineSettings.new(
      kafka: [['bootstrap.servers', '127.0.0.1:1'], ['group.id', "boundary-#{SecureRandom.hex(4)}"]],
      topics: ['boundary'], max_messages: 10, max_wait_ms: 100, pause_timeout_ms: 1_000,
      pause_max_timeout_ms: 1_000, exponential_backoff: false, dead_letters: [], schedule_topics: [],
      virtual_partitions: [], reset_backoff_ms: 1_000, **overrides
    )
  end

  it 'needs every engine setting, naming the missing ones' do
    expect { Karafka::Native::EngineSettings.new(kafka: [], topics: []) }
      .to raise_error(ArgumentError, /needs max_messages, max_wait_ms, .*virtual_partitions, reset_backoff_ms/)
  end

  it 'builds an engine from EngineSettings only, and names the member it could not read' do
    expect { Karafka::Native::Engine.new([[], ['t'], 10]) }
      .to raise_error(TypeError, 'expected a Karafka::Native::EngineSettings, got Array')
    expect { Karafka::Native::Engine.new(settings(max_messages: 'ten')) }
      .to raise_error(TypeError, /\AKarafka::Native::EngineSettings#max_messages: /)
    expect { Karafka::Native::Engine.new(settings(dead_letters: [%w[boundary dlq]])) }
      .to raise_error(TypeError, 'expected a Karafka::Native::DeadLetter, got Array')

    engine = Karafka::Native::Engine.new(
      settings(dead_letters: [Karafka::Native::DeadLetter.new(source: 'boundary', topic: nil, max_retries: 1, independent: false)],
               virtual_partitions: [Karafka::Native::VirtualLanes.new(topic: 'boundary', lanes: 2)])
    )
    engine._close
  end

  it 'produces OutgoingMessages only' do
    producer = Karafka::Native::Producer.new([%w[bootstrap.servers 127.0.0.1:1]])
    expect { producer._produce_async([['t', 'x', nil, nil, nil, []]]) }
      .to raise_error(TypeError, 'expected a Karafka::Native::OutgoingMessage, got Array')
    expect(producer._produce_async([Karafka::Native::OutgoingMessage.new('t', 'x', nil, nil, nil, [])])).to eq(1)
  ensure
    producer&._close(0)
  end
end
