# frozen_string_literal: true

require 'spec_helper'
require 'socket'

# A synchronous dispatch with Kafka down waits at most max_wait_timeout (WaterDrop's setting,
# same name and default), then raises WaterDrop's error class; it never holds a web request
# for librdkafka's 5-minute message.timeout.ms.
RSpec.describe 'Synchronous dispatch with Kafka down' do
  def closed_port
    server = TCPServer.new('127.0.0.1', 0)
    server.addr[1].tap { server.close }
  end

  def down_producer(**options)
    Karafka::Producer.new(kafka: { 'bootstrap.servers': "127.0.0.1:#{closed_port}" }, **options)
  end

  # Runs the dispatch on a thread, so that a wait without bound fails the example instead of
  # hanging it; returns [error raised, seconds taken].
  def bounded(limit: 20)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    thread = Thread.new do
      yield
      nil
    rescue StandardError => e
      e
    end
    finished = thread.join(limit)
    thread.kill unless finished
    expect(finished).to be_truthy, "still waiting after #{limit} s"
    [thread.value, Process.clock_gettime(Process::CLOCK_MONOTONIC) - started]
  end

  it "has WaterDrop's default max_wait_timeout" do
    expect(Karafka::Producer.new(kafka: { 'bootstrap.servers': SpecKafka.bootstrap }).max_wait_timeout).to eq(60_000)
  end

  it 'raises WaterDrop::Errors::ProduceError after max_wait_timeout' do
    producer = down_producer(max_wait_timeout: 1_000)
    error, took = bounded { producer.produce_sync(topic: 'jobs', payload: 'x') }

    expect(error).to be_a(WaterDrop::Errors::ProduceError)
    expect(error.message).to include('wait_timeout', 'jobs')
    expect([error.code, error.retryable?]).to eq([:wait_timeout, true])
    expect(took).to be_between(0.9, 5)
  ensure
    producer&.close(100)
  end

  it 'bounds produce_many_sync and variants the same way' do
    producer = down_producer(max_wait_timeout: 30_000)
    variant = producer.with(max_wait_timeout: 1_000)
    error, took = bounded { variant.produce_many_sync([{ topic: 'jobs', payload: 'a' }, { topic: 'jobs', payload: 'b' }]) }

    expect(error).to be_a(WaterDrop::Errors::ProduceError)
    expect(error.failures.size).to eq(2)
    expect(took).to be < 5
  ensure
    producer&.close(100)
  end

  it 'refuses a max_wait_timeout that is not a positive Integer' do
    expect { down_producer(max_wait_timeout: 0) }.to raise_error(Karafka::Errors::InvalidConfigurationError, /max_wait_timeout/)
  end
end
