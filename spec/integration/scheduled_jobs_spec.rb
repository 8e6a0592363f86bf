# frozen_string_literal: true

require 'spec_helper'

# Scheduled jobs: `set(wait_until:)` through a schedules topic, dispatched by the Rust timer.
RSpec.describe 'Scheduled jobs' do
  let(:partitions) { 3 }
  let(:topic) { create_topic('scheduled-target', partitions: partitions) }
  let(:schedules) { create_topic('scheduled-jobs', partitions: 2) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "scheduled-#{SecureRandom.hex(4)}.jsonl") }
  let(:servers) { [] }

  before do
    ScheduledJob.schedules_topic = schedules
    ScheduledUserStepJob.schedules_topic = schedules
  end

  after { servers.each(&:ensure_stopped) }

  def start_server
    ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 3,
                      env: { 'SPEC_SCHEDULES' => schedules }).start.tap { |s| servers << s }
  end

  def records
    JobRecorder.read(output)
  end

  def schedule(id, at)
    job_for(topic, ScheduledJob, id, at).tap { |job| job.enqueue(wait_until: Time.at(at)) }
  end

  def percentile(values, fraction)
    values.sort[((values.size - 1) * fraction).round]
  end

  it 'runs 1,000 jobs due 1-10 s ahead once each, close to their time, across a restart' do
    server = start_server
    now = Time.now.to_f + 1
    due = Array.new(1_000) { |i| ["job-#{i}", now + ((i % 100) * 0.09) + (i / 100)] }
    due.each { |id, at| schedule(id, at) }
    expect(Karafka.producer.flush(30_000)).to be(true)
    expect(records).to be_empty

    wait_until(timeout: 30, message: 'half of the schedules') { records.size >= 500 }
    expect(server.stop('TERM').exitstatus).to eq(0)
    expect(records.size).to be < 1_000
    restarted = start_server
    wait_until(timeout: 60, message: -> { "all schedules; log:\n#{restarted.log[-2000..]}" }) { records.size >= 1_000 }
    expect(restarted.stop('TERM').exitstatus).to eq(0)

    ids = records.map { |r| r['id'] }
    expect(ids.sort).to eq(due.map(&:first).sort)
    lateness = records.map { |r| (r['started'] - r['payload']) * 1000 }
    expect(lateness.min).to be >= 0
    # Lateness of jobs due once the restarted server was running (a restart's own gap aside).
    after_restart = records.reject { |r| r['pid'] == records.first['pid'] }
    running_from = after_restart.map { |r| r['started'] }.min
    late_ms = after_restart.select { |r| r['payload'] > running_from }.map { |r| (r['started'] - r['payload']) * 1000 }
    puts format('  scheduled lateness (ms): p50 %.1f, p99 %.1f, max %.1f over %d jobs',
                percentile(late_ms, 0.5), percentile(late_ms, 0.99), late_ms.max, late_ms.size)
  end

  it 'sends past and current times straight to the target topic' do
    start_server
    job = job_for(topic, ScheduledJob, 'past', Time.now.to_f)
    job.enqueue(wait_until: Time.now - 60)

    wait_until(message: 'the past-due job') { records.any? }
    expect(topic_size(schedules, 2)).to eq(0)
  end

  it 'keeps the partitioner: a scheduled job of user 7 lands where user 7’s jobs land' do
    start_server
    job_for(topic, ScheduledUserStepJob, 7, 1).enqueue(wait: 1)
    # Where key "7" goes among `partitions` partitions (a probe topic: not a job).
    now_report = Karafka.producer.produce_sync(topic: create_topic('probe', partitions: partitions), payload: 'x', key: '7')

    wait_until(message: -> { "the scheduled user job; log:\n#{servers.last.log[-3000..]}" }) do
      records.any? { |r| r['kind'] == 'scheduled' }
    end
    scheduled = records.find { |r| r['kind'] == 'scheduled' }
    expect(scheduled['provider_job_id'].split('/')[1].to_i).to eq(now_report.partition)
  end

  it 'schedules retry_on(wait:) retries instead of blocking the partition' do
    ENV['SPEC_SCHEDULES'] = schedules
    RetryLaterJob.karafka_options(scheduled_messages_topic: schedules)
    start_server
    job_for(topic, RetryLaterJob, 'later').enqueue
    Karafka.producer.flush

    wait_until(timeout: 30, message: 'the scheduled retry') { records.count { |r| r['id'] == 'later' } == 2 }
    first, second = records.select { |r| r['id'] == 'later' }
    expect([first['executions'], second['executions']]).to eq([1, 2])
    expect(second['at'] - first['at']).to be >= 1.0
  ensure
    ENV.delete('SPEC_SCHEDULES')
  end

  it 'honours each job’s scheduled_at in perform_all_later' do
    server = start_server
    # A server still booting 2 s later would start the due-now job after `at`.
    wait_until(message: -> { "the server to boot; log:\n#{server.log}" }) { server.log.include?('Running in') }
    at = Time.now.to_f + 2
    # A Time, as `set(wait_until:)` gives it on Rails 7.1+ (which serializes it with `.utc`); 6.1 takes it too.
    later = job_for(topic, ScheduledJob, 'bulk-later', at).tap { |j| j.scheduled_at = Time.at(at) }
    now = job_for(topic, ScheduledJob, 'bulk-now', Time.now.to_f)
    ActiveJob.perform_all_later([later, now])

    wait_until(timeout: 30, message: 'both bulk jobs') { records.size == 2 }
    by_id = records.to_h { |r| [r['id'], r] }
    expect(by_id['bulk-later']['started']).to be >= at
    expect(by_id['bulk-now']['started']).to be < at
  end
end
