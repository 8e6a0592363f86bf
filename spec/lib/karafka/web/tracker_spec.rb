# frozen_string_literal: true

require 'spec_helper'

# What a server's report counts: jobs running and processed as the engines tell them
# (`Native::Engine#_running` / `#_processed`, spec/integration/worker_pool_spec.rb; here an
# object answering the same), the rest from the same monitor events the server publishes.
RSpec.describe Karafka::Web::Tracker do
  let(:monitor) { Karafka::Instrumentation::Monitor.new }
  let(:errors) { [] }
  let(:tracker) { described_class.new(on_error: ->(report) { errors << report }) }

  let(:engine_class) { Struct.new(:_running, :_processed) }

  before { tracker.subscribe(monitor) }

  def payload_with(job_id = 'j', arguments = [])
    JSON.generate({ 'job_class' => 'RecordingJob', 'job_id' => job_id, 'arguments' => arguments })
  end

  it 'counts processed, failed, retried and dead-lettered jobs, and attempts per job location' do
    location = { topic: 't', partition: 0, offset: 7 }
    2.times do
      monitor.instrument('error.occurred', { type: 'consumer.consume.error', error: FixtureError.new('<b>no</b>'),
                                             job_class: 'FlakyJob', job_id: 'j1', **location })
      monitor.instrument('consumer.consuming.pause', { **location, attempt: 1, timeout: 100 })
    end
    monitor.instrument('dead_letter_queue.dispatched', { dead_letter_topic: 'dlq', attempts: 2, **location })
    tracker.watch(engine_class.new([], 1))

    expect(tracker.snapshot[:counters]).to eq(processed: 1, failed: 2, retried: 2, dead: 1)
    expect(errors.map { |error| error[:attempts] }).to eq([1, 2])
    expect(errors.last).to include(error_class: 'FixtureError', message: '<b>no</b>', job_class: 'FlakyJob',
                                   job_id: 'j1', topic: 't', offset: 7)
  end

  it 'shows the jobs every engine runs now from their payloads, and sums what they processed' do
    job = RecordingJob.new('r1', 'x' * 1_000).serialize
    started_at = Time.now.to_f
    tracker.watch(engine_class.new([[JSON.generate(job), 't', 1, 42, started_at]], 3))
    tracker.watch(engine_class.new([[payload_with('j2', ['other']), 't', 2, 7, started_at], ["\xff{", 't', 3, 1, started_at]], 4))
    seen = tracker.snapshot

    expect(seen[:counters][:processed]).to eq(7)
    expect(seen[:running].map { |entry| entry[:job_id] }).to eq([job['job_id'], 'j2', nil])
    expect(seen[:running].first).to include(job_class: 'RecordingJob', topic: 't', partition: 1, offset: 42, started_at: started_at)
    expect(seen[:running].first[:arguments].length).to be <= described_class::MAX_TEXT + 3
    expect(seen[:running][1][:arguments]).to eq('["other"]')
    expect(seen[:running].last).to include(job_class: 'unreadable payload', offset: 1)
  end

  it 'forgets a failing location once its job succeeded, was dead-lettered or its partition revoked' do
    failed = lambda { |partition, offset|
      monitor.instrument('error.occurred', { type: 'consumer.consume.error', error: FixtureError.new('no'),
                                             job_class: 'FlakyJob', job_id: 'j', topic: 't', partition: partition, offset: offset })
    }
    [[0, 1], [1, 2], [2, 3]].each { |partition, offset| failed.call(partition, offset) }
    tracker.recovered('t', 0, 1) # the executor: its retry succeeded
    monitor.instrument('dead_letter_queue.dispatched', { dead_letter_topic: 'dlq', attempts: 2, topic: 't', partition: 1, offset: 2 })
    monitor.instrument('rebalance.partitions_revoked', { partitions: [['t', 2]] })
    expect(tracker.instance_variable_get(:@failures)).to be_empty # a recovered retry takes no lock again
    failed.call(0, 1)
    expect(errors.last[:attempts]).to eq(1)
  end

  it 'tracks assigned partitions through rebalances' do
    monitor.instrument('rebalance.partitions_assigned', { partitions: [['a', 0], ['a', 1]] })
    monitor.instrument('rebalance.partitions_revoked', { partitions: [['a', 0]] })
    expect(tracker.snapshot[:assigned]).to eq([{ topic: 'a', partition: 1 }])
  end

  it 'holds a partition as paused from its back-off until the job finishes, is dead-lettered, the pause ends or it is revoked' do
    pause = lambda { |partition, offset, timeout|
      monitor.instrument('consumer.consuming.pause', { topic: 't', partition: partition, offset: offset, attempt: 1, timeout: timeout })
    }
    pause.call(0, 5, 60_000)
    pause.call(1, 9, 60_000)
    pause.call(2, 3, 60_000)
    pause.call(3, 1, 0)
    paused = tracker.snapshot[:paused]
    expect(paused.map { |p| [p[:partition], p[:offset], p[:attempt]] }).to eq([[0, 5, 1], [1, 9, 1], [2, 3, 1]])
    expect(paused.first[:until]).to be > Time.now.to_f + 50

    tracker.recovered('t', 0, 5)
    monitor.instrument('dead_letter_queue.dispatched', { topic: 't', partition: 1, offset: 9, attempts: 2 })
    expect(tracker.snapshot[:paused].map { |p| p[:partition] }).to eq([2])
    monitor.instrument('rebalance.partitions_revoked', { partitions: [['t', 2]] })
    expect(tracker.snapshot[:paused]).to be_empty
  end

  it 'is off unless Karafka::Web.enable! was called' do
    Karafka::Web.reset!
    expect(Karafka::Web.enabled?).to be(false)
    expect(Karafka::Cli::Topics::Declarations.from(Karafka::App.routes).map(&:name)).not_to include('karafka_errors')
    Karafka::Web.enable!
    declared = Karafka::Cli::Topics::Declarations.from(Karafka::App.routes).to_h { |d| [d.name, d.settings] }
    expect(declared['karafka_consumers_states']).to include('cleanup.policy' => 'compact')
  ensure
    Karafka::Web.reset!
  end
end
