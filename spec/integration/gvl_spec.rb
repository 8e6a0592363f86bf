# frozen_string_literal: true

require 'spec_helper'

# The threading rule, observed from Ruby: while the consumer loop and the workers wait in
# Rust, the GVL is released, and Ruby can wake or kill them.
RSpec.describe 'Native waits release the GVL' do
  let(:topic) { create_topic('gvl') }
  let(:engine) do
    kafka = Karafka::App.config.kafka.merge('group.id': unique_group).map { |k, v| [k.to_s, v.to_s] }
    Karafka::Native::Engine.new(
      Karafka::Native::EngineSettings.new(kafka: kafka, topics: [topic], max_messages: 10, max_wait_ms: 100,
                                          pause_timeout_ms: 1_000, pause_max_timeout_ms: 1_000,
                                          exponential_backoff: false, dead_letters: [], schedule_topics: [],
                                          virtual_partitions: [], reset_backoff_ms: 1_000)
    )
  end
  let(:executor) { Karafka::ActiveJob::Executor.new(Karafka::Instrumentation::Monitor.new) }

  it 'lets other Ruby threads run while the listener and workers block, and stops them all' do
    listener = Thread.new { loop { break if engine._run_loop == :stopped } }
    workers = Array.new(2) { Thread.new { engine._work(executor) } }
    wait_until(message: 'threads to block in native code') { workers.all? { |t| t.status == 'sleep' } || workers.none?(&:alive?) }

    # Pure-Ruby CPU work: it can only finish if the blocked threads do not hold the GVL.
    counter = Thread.new { 2_000_000.times.sum }
    expect(counter.join(20)).not_to be_nil
    expect(workers).to all(be_alive)

    engine._stop
    expect(workers.map { |t| t.join(10) }).to all(be_a(Thread))
    expect(listener.join(10)).to be_a(Thread)
    engine._close
  end

  it 'lets Thread#kill end a worker waiting for jobs (the unblock function wakes it)' do
    worker = Thread.new { engine._work(executor) }
    wait_until(message: 'worker to block') { worker.status == 'sleep' }

    worker.kill
    expect(worker.join(5)).to be_a(Thread)
    engine._stop
    engine._close
  end

  it 'lets Thread#raise interrupt a synchronous produce that is waiting for the broker' do
    producer = Karafka::Producer.new(kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 60_000 })
    waiting = Thread.new { producer.produce_sync(topic: 'nowhere', payload: 'x') }
    waiting.report_on_exception = false
    wait_until(message: 'producer to block') { waiting.status == 'sleep' }

    waiting.raise(Interrupt)
    expect { waiting.join(5) }.to raise_error(Interrupt)
    producer.close(0)
  end
end
