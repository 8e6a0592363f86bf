# frozen_string_literal: true

require 'spec_helper'

# Issue 12, defect 4: one slow lane held a virtual partition's commit point while its other
# lanes ran the whole buffer, so a kill -9 ran thousands of finished jobs again. Lanes now
# run at most `max_messages` (100 here) offsets ahead of the commit point.
RSpec.describe 'Virtual partitions behind a slow lane' do
  let(:topic) { create_topic('vp-lag', partitions: 1) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "vp-lag-#{SecureRandom.hex(4)}.jsonl") }
  let(:fast_ids) { Array.new(1500) { |i| "fast-#{i}" } }

  after { @server&.ensure_stopped }

  it 'runs no more than a batch ahead of the commit point, then catches up and commits everything' do
    jobs = [job_for(topic, KeyedRecordingJob, 'slow', nil, 3000)] +
           fast_ids.map { |id| job_for(topic, KeyedRecordingJob, id) }
    ActiveJob.perform_all_later(jobs)
    expect(Karafka.producer.flush(30_000)).to be(true)
    @server = ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 4,
                                env: { 'SPEC_VP' => '4' }).start

    wait_until(timeout: 90, message: -> { "every job; log:\n#{@server.log[-2000..]}" }) do
      JobRecorder.read(output).size >= jobs.size
    end
    wait_until(message: 'the last offset committed') { committed_total(group, topic) == jobs.size }
    expect(@server.stop('TERM').exitstatus).to eq(0)

    records = JobRecorder.read(output)
    expect(records.map { |r| r['id'] }.tally.values.uniq).to eq([1]), 'each job ran once'
    slow = records.find { |r| r['id'] == 'slow' }
    ahead = records.count { |r| r['id'] != 'slow' && r['finished'] < slow['finished'] }
    # Offsets 1..99 may run while offset 0 (the slow job) holds the commit point; before the
    # bound, the other lanes ran ~1,000 (the whole buffer) meanwhile.
    expect(ahead).to be <= 100
    expect(ahead).to be > 10, 'the other lanes did run in parallel'
  end
end
