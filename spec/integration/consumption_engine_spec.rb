# frozen_string_literal: true

require 'spec_helper'

# Long-running jobs, revocation awareness and routing patterns, against the real broker.
RSpec.describe 'The consumption engine' do
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "engine-#{SecureRandom.hex(4)}.jsonl") }
  let(:servers) { [] }

  after { servers.each(&:ensure_stopped) }

  def start_server(topics, **options)
    ServerProcess.new(topics: topics, group: group, output: output, **options).start.tap { |s| servers << s }
  end

  def records
    JobRecorder.read(output)
  end

  it 'runs a job longer than max.poll.interval.ms exactly once, without a rebalance' do
    topic = create_topic('long-running')
    server = start_server([topic], env: { 'SPEC_LRJ' => '1',
                                          'SPEC_KAFKA' => 'max.poll.interval.ms=10000,session.timeout.ms=6000' })
    job_for(topic, RecordingJob, 'long', nil, 25_000).enqueue
    job_for(topic, RecordingJob, 'after-long').enqueue
    Karafka.producer.flush

    wait_until(timeout: 90, message: -> { "both jobs; log:\n#{server.log[-2000..]}" }) { records.size >= 2 }
    expect(server.stop('TERM').exitstatus).to eq(0)
    expect(records.map { |r| r['id'] }).to eq(%w[long after-long])
    expect(records.first['finished'] - records.first['started']).to be >= 25
    expect(server.log.scan('Assigned partitions').size).to eq(1)
    expect(server.log).not_to include('Revoked partitions')
    expect(committed_total(group, topic)).to eq(2)
  end

  it 'runs a long job in one virtual partition while the other lanes go on, without a rebalance' do
    topic = create_topic('long-running-vp')
    server = start_server([topic], concurrency: 3,
                                   env: { 'SPEC_LRJ' => '1', 'SPEC_VP' => '3',
                                          'SPEC_KAFKA' => 'max.poll.interval.ms=10000,session.timeout.ms=6000' })
    # The long job goes to the lane of its message key; the quick ones to the others.
    long_job = job_for(topic, RecordingJob, 'long', nil, 12_000)
    Karafka.producer.produce_sync(topic: topic, key: 'slow-key', payload: JSON.generate(long_job.serialize))
    quick = Array.new(20) { |i| job_for(topic, KeyedStepJob, "other-#{i}", 0) }
    ActiveJob.perform_all_later(quick)
    Karafka.producer.flush

    wait_until(timeout: 60, message: -> { "every job; log:\n#{server.log[-2000..]}" }) { records.size >= 21 }
    long = records.find { |r| r['id'] == 'long' }
    others = records.select { |r| r['key']&.start_with?('other-') }
    expect(others.size).to eq(20)
    # Keys sharing the long job's lane wait behind it; the other lanes do not.
    expect(others.count { |r| r['finished'] < long['finished'] }).to be_between(1, 19)
    expect(server.log).not_to include('Revoked partitions')
    expect(records.count { |r| r['id'] == 'long' }).to eq(1)
  end

  it 'runs other partitions on idle workers while a worker is blocked in a long job' do
    topic = create_topic('blocked-worker', partitions: 2)
    # A backlog: partition 0 ends with a blocking job, partition 1 holds many quick ones. Quick
    # jobs do not make a worker wake another (core/workers.rs); the second worker must still
    # take partition 1 while the first one is blocked.
    rows = Array.new(20) { |i| [0, job_for(topic, RecordingJob, "p0-#{i}")] }
    rows << [0, job_for(topic, RecordingJob, 'long', nil, 4_000)]
    rows += Array.new(300) { |i| [1, job_for(topic, RecordingJob, "p1-#{i}")] }
    Karafka.producer.produce_many_sync(rows.map { |partition, job| { topic: topic, partition: partition, payload: JSON.generate(job.serialize) } })
    start_server([topic], concurrency: 2)

    wait_until(timeout: 60, message: -> { "#{records.size} of #{rows.size} jobs" }) { records.size >= rows.size }
    long = records.find { |r| r['id'] == 'long' }
    quick = records.select { |r| r['id'].start_with?('p1-') }
    expect(quick.size).to eq(300)
    expect(quick.map { |r| r['finished'] }.max).to be < long['finished']
  end

  # Karafka's docs recommend cooperative-sticky, or the consumer protocol (KIP-848) on Kafka 4,
  # for production: both hand partitions over incrementally (only the moved ones are revoked).
  # The first server hears of the second one's join at its next heartbeat (librdkafka's
  # default: every 3 s; the consumer protocol's is the broker's, 1 s in bin/kafka); a short
  # interval keeps the hand-over well inside the backlog.
  { 'the classic protocol' => 'heartbeat.interval.ms=500',
    'cooperative-sticky' => 'heartbeat.interval.ms=500,partition.assignment.strategy=cooperative-sticky',
    'the consumer protocol (KIP-848)' => 'group.protocol=consumer' }.each do |protocol, kafka_settings|
    it "hands revoked partitions over after their running jobs finish: a second server runs the rest, none twice (#{protocol})" do
      kafka = { 'SPEC_KAFKA' => kafka_settings }
      partitions = 2
      topic = create_topic('revocation', partitions: partitions)
      # ~6 s of work, so plenty is left when the second server joins, even on a loaded machine.
      ids = Array.new(600) { |i| "job-#{i}" }
      ActiveJob.perform_all_later(ids.map { |id| job_for(topic, RecordingJob, id, nil, 20) })
      expect(Karafka.producer.flush(30_000)).to be(true)

      first = start_server([topic], concurrency: 2, env: kafka)
      wait_until(message: 'the first server to be busy') { records.size >= 30 }
      second = start_server([topic], concurrency: 2, env: kafka)
      wait_until(timeout: 90, message: -> { "every job; logs:\n#{first.log[-1500..]}\n#{second.log[-1500..]}" }) do
        (ids - records.map { |r| r['id'] }).empty?
      end
      [first, second].each { |server| expect(server.stop('TERM').exitstatus).to eq(0) }

      ran = records.map { |r| r['id'] }
      expect(ran.uniq.sort).to eq(ids.sort)
      expect(first.log.scan('Revoked partitions').size).to be >= 1
      # The job running on each revoked partition finished and was committed before the
      # partition moved (the buffered ones were dropped), so the next owner ran none again.
      twice = ran.tally.select { |_, n| n > 1 }
      expect(twice).to eq({}), lambda {
        "ran more than once: #{twice.keys.first(5)}; first server:\n#{first.log.lines.grep(/partitions|handing/).join}"
      }
      expect(records.map { |r| r['pid'] }.uniq.size).to eq(2), lambda {
        "the second server took over no work; logs:\n#{first.log[-3000..]}\n---\n#{second.log[-3000..]}"
      }
    end
  end

  it 'consumes topics matching an active_job_pattern, including one created after boot' do
    prefix = "pattern-#{SecureRandom.hex(3)}"
    server = start_server([], env: { 'SPEC_PATTERN' => "^#{prefix}-.*" })
    wait_until(message: -> { "the server to boot; log:\n#{server.log}" }) { server.log.include?('Running in') }

    topic = create_topic("#{prefix}-late")
    job_for(topic, RecordingJob, 'late-topic-job').enqueue
    Karafka.producer.flush

    wait_until(timeout: 60, message: -> { "the job on the new topic; log:\n#{server.log[-2000..]}" }) { records.any? }
    expect(records.map { |r| r['id'] }).to eq(['late-topic-job'])
  end
end
