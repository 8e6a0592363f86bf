# frozen_string_literal: true

require 'spec_helper'

# Karafka's deploy sequence: TSTP first (quiet: no new job starts, the running one finishes
# and is committed, the process keeps its partitions), TERM at the end. TTIN logs backtraces.
RSpec.describe 'Quiet mode on SIGTSTP, then SIGTERM' do
  let(:topic) { create_topic('quiet') }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "quiet-#{SecureRandom.hex(4)}.jsonl") }
  let(:release) { File.join(Dir.tmpdir, "quiet-release-#{SecureRandom.hex(4)}") }
  let(:server) { ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 2) }

  after do
    server.ensure_stopped
    FileUtils.rm_f(release)
  end

  def ran
    JobRecorder.read(output).map { |row| row['id'] }
  end

  it 'finishes and commits the running job, starts no other, and exits 0 on TERM without running more' do
    held = job_for(topic, StartedHeldJob, 'held', release)
    ActiveJob.perform_all_later([held] + Array.new(5) { |index| job_for(topic, RecordingJob, "after-#{index}") })
    server.start
    wait_until(timeout: 60, message: -> { "the held job to start; log:\n#{server.log}" }) { ran == ['held'] }

    Process.kill('TSTP', server.pid)
    wait_until(message: -> { "quieting; log:\n#{server.log}" }) { server.log.include?('Switching to quiet mode') }
    FileUtils.touch(release)
    wait_until(message: -> { "quiet; log:\n#{server.log}" }) { server.log.include?('Reached quiet mode') }
    wait_until(message: 'the held job committed') { committed_total(group, topic) == 1 }
    expect(File.read("/proc/#{server.pid}/cmdline")).to include('(quiet)')

    # A round trip through the signal handling, while five quick jobs wait in the buffer.
    Process.kill('TTIN', server.pid)
    wait_until(message: -> { "the backtraces; log:\n#{server.log}" }) do
      server.log.include?('Received SIGTTIN system signal') && server.log.include?('karafka.worker#1')
    end
    expect(ran).to eq(%w[held held])

    expect(server.stop('TERM').exitstatus).to eq(0), server.log
    expect(ran).to eq(%w[held held])
    expect(committed_total(group, topic)).to eq(1)
    expect(server.log).to include('Received SIGTERM system signal')
  end
end
