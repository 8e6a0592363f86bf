# frozen_string_literal: true

require 'spec_helper'

# Karafka::ActiveJob.cancel against the real broker: skipped and committed when not started,
# `cancelled?` when running, schedules removed, and a cancel racing a dispatch.
RSpec.describe 'Cancelling jobs' do
  let(:cancels) do
    "cancels-#{SecureRandom.hex(4)}".tap do |name|
      Karafka::Admin.create_topic(name, 1, 1, { 'cleanup.policy' => 'compact' })
    end
  end
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "cancels-#{SecureRandom.hex(4)}.jsonl") }
  let(:servers) { [] }

  before { Karafka::App.config.active_job.cancels_topic = cancels }

  after do
    servers.each(&:ensure_stopped)
    Karafka::App.config.active_job.cancels_topic = nil
  end

  def start_server(topics, env = {})
    ServerProcess.new(topics: topics, group: group, output: output, concurrency: 3,
                      env: { 'SPEC_CANCELS' => cancels, 'SPEC_FEATURE_EVENTS' => '1' }.merge(env))
                 .start.tap { |server| servers << server }
  end

  def records(kind = nil)
    all = JobRecorder.read(output)
    kind ? all.select { |record| record['kind'] == kind } : all
  end

  def log
    -> { "log:\n#{servers.last&.log.to_s[-3000..]}" }
  end

  it 'skips an enqueued job cancelled behind a running one, commits it and reports it; the running one sees cancelled?' do
    topic = create_topic('cancel-behind')
    start_server([topic])
    running = job_for(topic, CancellableJob, 'running').tap(&:enqueue)
    behind = job_for(topic, CancelRaceJob, 'behind').tap(&:enqueue)
    after_it = job_for(topic, CancelRaceJob, 'after').tap(&:enqueue)
    wait_until(message: log) { records('started').any? }

    expect(Karafka::ActiveJob.cancel(behind)).to eq(behind.job_id)
    # Cancelled after `behind` in the one-partition cancels topic: once the running job sees
    # it, the server has read `behind`'s cancel too.
    Karafka::ActiveJob.cancel(running.job_id)

    wait_until(message: log) { records('ran').any? { |r| r['id'] == 'after' } }
    wait_until(message: 'every offset committed') { committed_total(group, topic) == 3 }
    expect(records('finished')).to contain_exactly(include('id' => 'running', 'cancelled' => true))
    expect(records('ran').map { |r| r['id'] }).to eq(['after'])
    expect(records('cancelled')).to contain_exactly(
      include('job_id' => behind.job_id, 'job_class' => 'CancelRaceJob', 'topic' => topic, 'partition' => 0, 'offset' => 1)
    )
    expect(servers.last.log).to include("[#{behind.job_id}] CancelRaceJob cancelled: skipped (#{topic}/0/1)")
    expect(after_it.job_id).not_to eq(behind.job_id)
  end

  it 'reads every earlier cancel before the first job runs: a job cancelled before the server started never runs' do
    topic = create_topic('cancel-before-start')
    doomed = job_for(topic, CancelRaceJob, 'doomed')
    Karafka::ActiveJob.cancel(doomed.job_id)
    doomed.enqueue
    job_for(topic, CancelRaceJob, 'kept').enqueue
    Karafka.producer.flush(10_000)
    start_server([topic])

    wait_until(message: log) { records('ran').any? }
    wait_until(message: 'both offsets committed') { committed_total(group, topic) == 2 }
    expect(records('ran').map { |r| r['id'] }).to eq(['kept'])
    expect(records('cancelled').map { |r| r['job_id'] }).to eq([doomed.job_id])
  end

  it 'never runs a cancelled scheduled job: cancel(job) removes its schedule, cancel(job_id) skips it when due' do
    topic = create_topic('cancel-scheduled-target')
    schedules = create_topic('cancel-schedules')
    ScheduledJob.schedules_topic = schedules
    CancelRaceJob.karafka_options(scheduled_messages_topic: schedules)
    start_server([topic], 'SPEC_SCHEDULES' => schedules)
    removed = job_for(topic, CancelRaceJob, 'removed').tap { |job| job.enqueue(wait: 5) }
    skipped = job_for(topic, CancelRaceJob, 'skipped').tap { |job| job.enqueue(wait: 5) }
    job_for(topic, CancelRaceJob, 'sentinel').enqueue(wait: 6)
    Karafka.producer.flush(10_000)

    Karafka::ActiveJob.cancel(removed) # knows its schedule: a tombstone for it too
    Karafka::ActiveJob.cancel(skipped.job_id) # an id alone: the schedule stays, the job is skipped

    wait_until(timeout: 60, message: log) { records('ran').any? { |r| r['id'] == 'sentinel' } }
    wait_until(message: log) { records('cancelled').any? }
    expect(records('ran').map { |r| r['id'] }).to eq(['sentinel'])
    expect(records('cancelled').map { |r| r['job_id'] }).to eq([skipped.job_id])
    # Only `skipped` and the sentinel were ever dispatched to the target topic.
    expect(topic_size(topic, 1)).to eq(2)
    wait_until(message: 'both dispatched offsets committed') { committed_total(group, topic) == 2 }
  ensure
    CancelRaceJob._karafka_options = CancelRaceJob._karafka_options.except(:scheduled_messages_topic)
  end

  it 'reports each job of a cancel racing its dispatch exactly once, run or skipped, and skips every job cancelled before it started' do
    topic = create_topic('cancel-race')
    start_server([topic])
    # A job holding the partition until it sees its own cancel: the 100 jobs enqueued before
    # that cancel wait behind it, and once it returns its server has read their cancels too
    # (earlier in the cancels topic), so the cancelled ones among them must all be skipped.
    # The 100 enqueued after it run at once: their cancels race their dispatch.
    gate = job_for(topic, CancellableJob, 'gate').tap(&:enqueue)
    wait_until(message: log) { records('started').any? }
    jobs = Array.new(200) { |i| job_for(topic, CancelRaceJob, "race-#{i}") }
    jobs.each_with_index do |job, i|
      Karafka::ActiveJob.cancel(gate.job_id) if i == 100
      Karafka::ActiveJob.cancel(job.job_id) if i.even? # just before it is enqueued
      job.enqueue
    end
    Karafka.producer.flush(10_000)

    wait_until(timeout: 60, message: log) { records.count { |r| %w[ran cancelled].include?(r['kind']) } >= jobs.size }
    wait_until(message: 'every offset committed') { committed_total(group, topic) == jobs.size + 1 }
    ran = records('ran').map { |r| r['job_id'] }
    skipped = records('cancelled').map { |r| r['job_id'] }
    cancelled, kept = jobs.each_with_index.partition { |_, i| i.even? }.map { |pairs| pairs.map { |job, _| job.job_id } }
    expect(ran & skipped).to be_empty
    expect((ran + skipped).sort).to eq(jobs.map(&:job_id).sort)
    expect(ran).to include(*kept)
    expect(cancelled).to include(*skipped)
    expect(skipped).to include(*cancelled.first(50))
    expect(records('finished')).to contain_exactly(include('id' => 'gate', 'cancelled' => true))
    late = cancelled.last(50) - skipped
    puts "  cancel race: of the 50 cancelled just before their dispatch, #{50 - late.size} skipped, #{late.size} ran (too late)"
  end
end
