# frozen_string_literal: true

require 'spec_helper'

# At-least-once under crashes: the server is killed at random moments over a 20,000-job
# backlog and restarted each time. Every job must run; a job may run again only if it had
# finished but its offset was not yet committed when the process died.
RSpec.describe 'Delivery guarantees across crashes and restarts' do
  let(:partitions) { 6 }
  let(:total) { 20_000 }
  let(:topic) { create_topic('crash', partitions: partitions) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "crash-#{SecureRandom.hex(4)}.jsonl") }
  let(:servers) { [] }
  let(:random) { Random.new(Integer(ENV.fetch('SPEC_SEED', RSpec.configuration.seed.to_s))) }

  after { servers.each(&:ensure_stopped) }

  before do
    total.times.each_slice(2_000) do |slice|
      ActiveJob.perform_all_later(slice.map { |i| job_for(topic, RecordingJob, "job-#{i}") })
    end
    expect(Karafka.producer.flush(30_000)).to be(true)
    expect(topic_size(topic, partitions)).to eq(total)
  end

  # Static membership: each restart takes the partitions back without waiting for the dead
  # member's session to time out.
  def start_server
    ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 5,
                      env: { 'SPEC_INSTANCE_ID' => "#{group}-member" }).start.tap { |s| servers << s }
  end

  # Distinct jobs performed so far (a cheap scan: this runs every polling interval).
  def performed_count
    File.exist?(output) ? File.read(output).scan(/"id":"([^"]+)"/).uniq.size : 0
  end

  # Jobs recorded as done whose offsets are not committed: the ones a crash may repeat.
  def done_but_uncommitted
    committed = Karafka::Admin.committed_offsets(group, topic)
    JobRecorder.read(output).count do |record|
      _topic, partition, offset = record['provider_job_id'].split('/')
      offset.to_i >= committed.fetch(partition.to_i, -1)
    end
  end

  def run_until_done_and_stop(server)
    wait_until(timeout: 120, message: -> { "all #{total} jobs; log:\n#{server.log[-2000..]}" }) { performed_count >= total }
    expect(server.stop('TERM').exitstatus).to eq(0)
  end

  it 'runs every job at least once over 10 SIGKILLs, repeating only what was not committed' do
    may_repeat = 0
    10.times do
      server = start_server
      target = [performed_count + random.rand(300..1_500), total].min
      wait_until(timeout: 60, message: -> { "progress to #{target}; log:\n#{server.log[-2000..]}" }) { performed_count >= target }
      server.stop('KILL')
      may_repeat += done_but_uncommitted
    end
    run_until_done_and_stop(start_server)

    ids = JobRecorder.read(output).map { |r| r['id'] }
    expect(ids.uniq.size).to eq(total)
    duplicates = ids.size - ids.uniq.size
    expect(duplicates).to be <= may_repeat
    puts "  SIGKILL x10: #{duplicates} job(s) ran twice; #{may_repeat} were done but uncommitted at the kills"
    expect(committed_total(group, topic)).to eq(total)
  end

  it 'runs every job exactly once over repeated SIGTERMs' do
    5.times do
      server = start_server
      target = [performed_count + random.rand(1_000..3_000), total].min
      wait_until(timeout: 60, message: -> { "progress to #{target}; log:\n#{server.log[-2000..]}" }) { performed_count >= target }
      expect(server.stop('TERM').exitstatus).to eq(0)
    end
    run_until_done_and_stop(start_server)

    ids = JobRecorder.read(output).map { |r| r['id'] }
    expect(ids.size).to eq(total)
    expect(ids.uniq.size).to eq(total)
  end
end
