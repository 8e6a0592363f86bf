# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::Producer do
  let(:producer) { Karafka.producer }

  it 'produces synchronously and reports where each message landed' do
    topic = create_topic('produce', partitions: 2)
    report = producer.produce_sync(topic: topic, payload: 'hello', key: 'k', headers: { 'h' => 'v' }, partition: 1)

    expect([report.topic_name, report.partition, report.offset, report.error]).to eq([topic, 1, 0, nil])
    expect(Karafka::Admin.watermark_offsets(topic, 1)).to eq([0, 1])
  end

  it 'does not hold sync messages back for linger.ms (only async ones are batched)' do
    topic = create_topic('produce-no-linger')
    lingering = Karafka::Producer.new(kafka: Karafka::App.config.kafka.merge('linger.ms': 120_000))
    # Were linger.ms honoured, this would wait two minutes: the deadline is a quarter of that.
    sending = Thread.new { lingering.produce_sync(topic: topic, payload: 'now') }

    expect(sending.join(30)&.value&.offset).to eq(0)
    lingering.close(0)
  end

  it 'waits for room when its queue is full and delivers every async message, in order' do
    topic = create_topic('produce-queue-full')
    small = Karafka::Producer.new(kafka: Karafka::App.config.kafka.merge('queue.buffering.max.messages': 10))

    expect(small.produce_many_async(Array.new(2_000) { |i| { topic: topic, payload: i.to_s } }).size).to eq(2_000)
    expect(small.flush(30_000)).to be(true)
    payloads = Karafka::Admin.read_topic(topic, 0, 2_000).map(&:raw_payload)
    expect(payloads).to eq(Array.new(2_000, &:to_s))
    small.close(0)
  end

  it 'produces many synchronously, in order within a partition' do
    topic = create_topic('produce-many')
    reports = producer.produce_many_sync(Array.new(5) { |i| { topic: topic, payload: i.to_s } })

    expect(reports.map(&:offset)).to eq([0, 1, 2, 3, 4])
  end

  it 'delivers async messages (flush waits for them)' do
    topic = create_topic('produce-async')
    expect(producer.produce_many_async(Array.new(10) { { topic: topic, payload: 'x' } }).size).to eq(10)
    expect(producer.flush(10_000)).to be(true)
    expect(topic_size(topic, 1)).to eq(10)
  end

  # WaterDrop's docs (Usage, "Delivery Handles"), as written there.
  it 'returns delivery handles from async dispatches, whose wait gives each message’s report' do
    topic = create_topic('produce-handles')
    handle = producer.produce_async(topic: topic, payload: 'my_payload')
    report = handle.wait

    expect([report.topic_name, report.partition, report.offset, report.error]).to eq([topic, 0, 0, nil])
    expect(handle.pending?).to be(false)
    handles = producer.produce_many_async(Array.new(3) { |i| { topic: topic, payload: i.to_s } })
    expect(handles.map { |h| h.wait(max_wait_timeout: 10).offset }).to eq([1, 2, 3])
    expect(handles.first.wait.offset).to eq(1) # waiting again gives the same report
  end

  it 'raises a failed delivery from wait, or returns it with raise_response_error: false, and reports it either way' do
    topic = create_topic('produce-handle-fail')
    reported = Queue.new
    failing = described_class.new(kafka: Karafka::App.config.kafka)
    failing.monitor.subscribe('error.occurred') { |event| reported << event[:partition] }
    handle = failing.produce_async(topic: topic, payload: 'bad', partition: 5)

    expect { handle.wait(max_wait_timeout: 30) }.to raise_error(Karafka::Errors::DeliveryError) do |error|
      expect(error.failures.first).to include(topic: topic, partition: 5, code: :unknown_partition)
    end
    report = handle.wait(raise_response_error: false)
    expect([report.offset, report.error.code]).to eq([nil, :unknown_partition])
    expect(wait_until(message: 'the failure reported as error.occurred') { reported.empty? ? nil : reported.pop }).to eq(5)
    failing.close(0)
  end

  it 'gives up waiting on a handle after max_wait_timeout, as :wait_timeout' do
    stalled = described_class.new(kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 60_000 })
    handle = stalled.produce_async(topic: 'nowhere', payload: 'x')

    expect { handle.wait(max_wait_timeout: 0.2) }.to raise_error(Karafka::Errors::DeliveryError) { |e| expect(e.code).to eq(:wait_timeout) }
    expect(handle.wait(max_wait_timeout: -1, raise_response_error: false).error.code).to eq(:wait_timeout) # no wait
    expect(handle.pending?).to be(true)
    stalled.close(0)
  end

  it 'routes a partition_key to the partition its message key would choose, without setting the key' do
    topic = create_topic('partition-key', partitions: 6)
    keys = Array.new(20) { |i| "user-#{i}" }
    by_key = keys.map { |key| producer.produce_sync(topic: topic, payload: 'k', key: key).partition }
    by_partition_key = keys.map { |key| producer.produce_sync(topic: topic, payload: 'p', partition_key: key).partition }

    expect(by_partition_key).to eq(by_key)
    expect(by_key.uniq.size).to be > 1
  end

  it 'raises a DeliveryError naming how many messages failed' do
    topic = create_topic('produce-fail')
    messages = [{ topic: topic, payload: 'ok' }, { topic: topic, payload: 'bad', partition: 5 }]

    expect { producer.produce_many_sync(messages) }.to raise_error(Karafka::Errors::DeliveryError, /1 of 2 message/) do |error|
      expect(error.failures.first).to include(topic: topic, partition: 5)
    end
  end

  it 'reports async delivery failures as error.occurred instead of dropping them' do
    failures = Queue.new
    failing = described_class.new(kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 200 })
    failing.monitor.subscribe('error.occurred') { |event| failures << event }

    failing.produce_async(topic: 'unreachable', payload: 'x')
    event = wait_until(message: 'the async failure report') { failures.empty? ? nil : failures.pop }
    expect(event[:type]).to eq('librdkafka.dispatch_error')
    expect(event[:topic]).to eq('unreachable')
    failing.close(0)
  end

  it 'applies a variant’s topic settings to what it produces' do
    topic = create_topic('variant')
    strict = producer.with(topic_config: { acks: 'all' })
    impatient = described_class.new(kafka: { 'bootstrap.servers': '127.0.0.1:1' }).with(max_wait_timeout: 100)

    expect(strict.produce_sync(topic: topic, payload: 'x').offset).to eq(0)
    expect { impatient.produce_sync(topic: topic, payload: 'x') }.to raise_error(Karafka::Errors::DeliveryError, /msg_timed_out/)
    impatient.close(0)
  end

  it 'rejects invalid messages before they reach Kafka' do
    expect { producer.produce_sync(topic: '', payload: 'x') }.to raise_error(Karafka::Errors::MessageInvalidError, /topic/)
    expect { producer.produce_sync(topic: 't', payload: 1) }.to raise_error(Karafka::Errors::MessageInvalidError, /payload/)
    expect { producer.produce_sync(topic: 't', payload: 'x', headers: { 'a' => 1 }) }
      .to raise_error(Karafka::Errors::MessageInvalidError, /headers/)
  end
end

RSpec.describe 'Karafka.producer across fork' do
  it 'gives a forked child its own producer (librdkafka handles never cross a fork)' do
    topic = create_topic('forked')
    parent = Karafka.producer
    parent.produce_sync(topic: topic, payload: 'parent')

    reader, writer = IO.pipe
    pid = fork do
      reader.close
      child = Karafka.producer
      report = child.produce_sync(topic: topic, payload: 'child')
      writer.write(JSON.generate(same: child.equal?(parent), offset: report.offset))
      writer.close
      exit!(0)
    end
    writer.close
    _, status = Process.wait2(pid)
    result = JSON.parse(reader.read)

    expect(status).to be_success
    expect(result).to eq('same' => false, 'offset' => 1)
    expect(Karafka.producer).to equal(parent)
    expect(parent.produce_sync(topic: topic, payload: 'parent again').offset).to eq(2)
  end
end
