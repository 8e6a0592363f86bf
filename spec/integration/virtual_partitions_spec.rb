# frozen_string_literal: true

require 'spec_helper'

# Virtual partitions: one Kafka partition's jobs run in parallel lanes by message key.
RSpec.describe 'Virtual partitions' do
  let(:topic) { create_topic('virtual', partitions: 1) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "virtual-#{SecureRandom.hex(4)}.jsonl") }
  let(:keys) { Array.new(50) { |i| "user-#{i}" } }
  let(:steps) { 40 }

  after { @server&.ensure_stopped }

  def run_jobs(failing: nil)
    jobs = (0...steps).flat_map do |step|
      keys.map { |key| job_for(topic, KeyedStepJob, key, step, failing == [key, step]) }
    end
    ActiveJob.perform_all_later(jobs)
    expect(Karafka.producer.flush(30_000)).to be(true)
    @server = ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 10,
                                env: { 'SPEC_VP' => '10', 'SPEC_PAUSE_TIMEOUT' => '100' }).start
    total = keys.size * steps
    wait_until(timeout: 120, message: -> { "#{total} jobs; log:\n#{@server.log[-2000..]}" }) do
      JobRecorder.read(output).count { |r| r['ok'] } >= total
    end
    wait_until(message: 'the last offset committed') { committed_total(group, topic) == total }
    expect(@server.stop('TERM').exitstatus).to eq(0)
    JobRecorder.read(output)
  end

  def expect_per_key_order(records)
    records.select { |r| r['ok'] }.group_by { |r| r['key'] }.each do |key, runs|
      runs = runs.sort_by { |r| r['started'] }
      expect(runs.map { |r| r['step'] }).to eq((0...steps).to_a), "#{key} in order"
      runs.each_cons(2) { |a, b| expect(b['started']).to be >= a['finished'], "#{key} overlapped" }
    end
  end

  it 'runs a partition’s 2,000 jobs in parallel lanes, each key in order, each job once' do
    records = run_jobs
    expect(records.size).to eq(keys.size * steps)
    expect_per_key_order(records)
    expect(records.map { |r| r['thread'] }.uniq.size).to be > 1, 'lanes ran on several workers'
    sorted = records.sort_by { |r| r['started'] }
    overlapping = sorted.each_cons(2).count { |a, b| b['started'] < a['finished'] && a['key'] != b['key'] }
    expect(overlapping).to be > 0, 'jobs of different keys ran at the same time'
  end

  it 'collapses on an error mid-batch and retries only what did not succeed' do
    records = run_jobs(failing: ['user-7', 20])
    failed = records.reject { |r| r['ok'] }
    expect(failed.map { |r| [r['key'], r['step']] }).to eq([['user-7', 20]])
    expect(records.count { |r| r['key'] == 'user-7' && r['step'] == 20 }).to eq(2)
    expect(records.select { |r| r['ok'] }.map { |r| [r['key'], r['step']] }.uniq.size).to eq(keys.size * steps)
    expect(records.size).to eq((keys.size * steps) + 1), 'nothing but the failed job ran twice'
    expect_per_key_order(records)
  end

  it 'dead-letters a job that keeps failing in a virtual partition, and runs everything else once' do
    dlq = create_topic('virtual-dead')
    ActiveJob.perform_all_later(keys.first(5).flat_map { |key| Array.new(4) { |step| job_for(topic, KeyedStepJob, key, step) } } +
                                [job_for(topic, FailingJob, 'vp-doomed')])
    expect(Karafka.producer.flush(30_000)).to be(true)
    @server = ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 4,
                                env: { 'SPEC_VP' => '4', 'SPEC_PAUSE_TIMEOUT' => '100', 'SPEC_DLQ' => "#{dlq}:1:true" }).start

    wait_until(timeout: 60, message: -> { "the dead letter; log:\n#{@server.log[-2000..]}" }) do
      Karafka::Admin.read_topic(dlq, 0, 1, timeout_ms: 500).any?
    end
    wait_until(message: 'every offset committed') { committed_total(group, topic) == 21 }
    records = JobRecorder.read(output)
    expect(records.count { |r| r['id'] == 'vp-doomed' }).to eq(2) # first run + 1 retry
    expect(records.select { |r| r['key'] }.map { |r| [r['key'], r['step']] }.tally.values.uniq).to eq([1])
  end
end
