# frozen_string_literal: true

require 'spec_helper'

# SIGTERM: running jobs finish and are committed, buffered ones wait for the next start.
RSpec.describe 'Graceful shutdown on SIGTERM' do
  let(:partitions) { 3 }
  let(:topic) { create_topic('shutdown', partitions: partitions) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "shutdown-#{SecureRandom.hex(4)}.jsonl") }
  let(:ids) { Array.new(150) { |i| "job-#{i}" } }
  let(:servers) { [] }

  after { servers.each(&:ensure_stopped) }

  def start_server
    ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 3).start.tap { |s| servers << s }
  end

  it 'finishes running jobs, commits them, exits 0, and loses or repeats nothing across a restart' do
    ActiveJob.perform_all_later(ids.map { |id| job_for(topic, RecordingJob, id, nil, 20) })

    first = start_server
    wait_until(message: -> { "some jobs to run; log:\n#{first.log[-3000..]}" }) { JobRecorder.read(output).size >= 20 }
    status = first.stop('TERM')
    expect(status.exitstatus).to eq(0), first.log

    ran_before_restart = JobRecorder.read(output)
    expect(ran_before_restart.size).to be < ids.size
    expect(committed_total(group, topic)).to eq(ran_before_restart.size)

    second = start_server
    wait_until(timeout: 60, message: 'every job to run') { JobRecorder.read(output).size >= ids.size }
    expect(second.stop('TERM').exitstatus).to eq(0)

    ran = JobRecorder.read(output).map { |r| r['id'] }
    expect(ran.tally.values.uniq).to eq([1]), 'no job ran twice'
    expect(ran.sort).to eq(ids.sort)
    expect(committed_total(group, topic)).to eq(ids.size)
  end

  # As Karafka: a deploy tells jobs cut off at shutdown_timeout (config.internal.forceful_exit_code)
  # from a clean stop (0) and a failed boot (1).
  it 'exits with forceful_exit_code (2), reporting app.stopping.error, when a job outlives shutdown_timeout' do
    release = File.join(Dir.tmpdir, "shutdown-release-#{SecureRandom.hex(4)}")
    server = ServerProcess.new(topics: [topic], group: group, output: output, env: { 'SPEC_SHUTDOWN_TIMEOUT' => '1000' })
                          .start.tap { |s| servers << s }
    job_for(topic, StartedHeldJob, 'held', release).enqueue
    wait_until(message: -> { "the held job to start; log:\n#{server.log}" }) { JobRecorder.read(output).any? }

    expect(server.stop('TERM').exitstatus).to eq(2), server.log
    expect(server.log).to include('app.stopping.error', 'still busy after shutdown_timeout')
    expect(committed_total(group, topic)).to eq(0) # the cut-off job runs again on the next start
  ensure
    FileUtils.touch(release) if release
  end
end
