# frozen_string_literal: true

require 'spec_helper'

# perform_later / perform_all_later with every dispatch method, through a real
# `karafka server`, against the real broker.
RSpec.describe 'Jobs travel perform_later -> Kafka -> karafka server -> perform' do
  before(:all) do
    @topic = create_topic('dispatch', partitions: 3)
    @ordered_topic = create_topic('ordered', partitions: 1)
    @group = unique_group
    @output = File.join(Dir.tmpdir, "dispatch-#{SecureRandom.hex(4)}.jsonl")
    @server = ServerProcess.new(topics: [@topic, @ordered_topic], group: @group, output: @output).start
  end

  after(:all) { @server.ensure_stopped }

  let(:records) { JobRecorder.read(@output) }

  def records_for(ids)
    wait_until(message: -> { "#{ids.size} jobs to run; server log:\n#{@server.log}" }) do
      found = JobRecorder.read(@output).select { |r| ids.include?(r['id']) }
      found if found.map { |r| r['id'] }.uniq.size == ids.size
    end
  end

  it 'runs a produce_async job once with its arguments' do
    id = SecureRandom.uuid
    RecordingJob.set(queue: @topic).perform_later(id, { 'user' => 7, 'name' => 'Ada' })

    ran = records_for([id])
    expect(ran.size).to eq(1)
    expect(ran.first).to include('job_class' => 'RecordingJob', 'payload' => { 'user' => 7, 'name' => 'Ada' })
  end

  it 'runs a produce_sync job once and tells it where it was stored' do
    id = SecureRandom.uuid
    job = SyncRecordingJob.set(queue: @topic).perform_later(id, 'sync')

    expect(job.provider_job_id).to match(%r{\A#{@topic}/\d+/\d+\z})
    ran = records_for([id])
    expect(ran.map { |r| [r['job_class'], r['payload']] }).to eq([%w[SyncRecordingJob sync]])
  end

  it 'runs perform_all_later batches with produce_many_async and produce_many_sync' do
    async_jobs = Array.new(3) { |i| job_for(@topic, RecordingJob, "async-#{SecureRandom.hex(4)}", i) }
    sync_jobs = Array.new(3) { |i| job_for(@topic, ManySyncRecordingJob, "sync-#{SecureRandom.hex(4)}", i) }

    expect(ActiveJob::Base.queue_adapter.enqueue_all(async_jobs + sync_jobs)).to eq(6)

    ran = records_for((async_jobs + sync_jobs).map { |j| j.arguments.first })
    expect(ran.size).to eq(6)
    expect(ran.map { |r| r['job_class'] }.tally).to eq('RecordingJob' => 3, 'ManySyncRecordingJob' => 3)
  end

  it 'runs all 1,000 jobs of one enqueue_all exactly once and commits their offsets' do
    jobs = Array.new(1_000) { |i| job_for(@topic, RecordingJob, "bulk-#{i}-#{SecureRandom.hex(3)}") }
    ActiveJob.perform_all_later(jobs)

    ran = records_for(jobs.map { |j| j.arguments.first })
    expect(ran.size).to eq(1_000)
    total = topic_size(@topic, 3)
    wait_until(message: 'offsets committed up to the end of the topic') { committed_total(@group, @topic) == total }
  end

  it 'runs the jobs of one partition one at a time, in enqueue order' do
    ids = Array.new(100) { |i| "ordered-#{i}" }
    ids.each_slice(10) do |slice|
      ActiveJob.perform_all_later(slice.map { |id| job_for(@ordered_topic, RecordingJob, id, nil, 2) })
    end

    ran = records_for(ids)
    expect(ran.map { |r| r['id'] }).to eq(ids)
    ran.each_cons(2) { |a, b| expect(b['started']).to be >= a['finished'] }
  end

  it 'refuses a job whose arguments are not JSON, and keeps enqueuing the next ones after many such' do
    # The dispatcher reuses one JSON::State per thread: a failed generate must not leave
    # its nesting depth raised (100 failures would otherwise trip max_nesting for every job).
    100.times do
      expect { RecordingJob.set(queue: @topic).perform_later('nan', Float::NAN) }.to raise_error(JSON::GeneratorError)
    end
    id = SecureRandom.uuid
    RecordingJob.set(queue: @topic).perform_later(id, { 'deep' => [[[[1]]]] })

    expect(records_for([id]).first).to include('payload' => { 'deep' => [[[[1]]]] })
  end
end
