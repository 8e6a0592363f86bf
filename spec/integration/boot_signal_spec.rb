# frozen_string_literal: true

require 'spec_helper'

# A SIGTERM while `karafka server` boots (karafka.rb, the Rails app) stops it cleanly: exit 0,
# no job started, nothing committed. Before, the process died by the signal (no exit status).
RSpec.describe 'SIGTERM while the server boots' do
  let(:topic) { create_topic('boot-signal') }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "boot-signal-#{SecureRandom.hex(4)}.jsonl") }
  let(:gate) { File.join(Dir.tmpdir, "boot-gate-#{SecureRandom.hex(4)}") }
  let(:server) do
    ServerProcess.new(topics: [topic], group: group, output: output, env: { 'SPEC_BOOT_GATE' => gate })
  end

  after do
    server.ensure_stopped
    [gate, "#{gate}.booting"].each { |path| FileUtils.rm_f(path) }
  end

  it 'exits 0 without running or committing anything' do
    RecordingJob.set(queue: topic).perform_later('waits-for-the-next-start')
    expect(Karafka.producer.flush(10_000)).to be(true)

    server.start
    wait_until(message: 'the server to be booting') { File.exist?("#{gate}.booting") }
    Process.kill('TERM', server.pid)
    File.write(gate, '')

    status = server.wait(30)
    expect(status.exitstatus).to eq(0), server.log
    expect(JobRecorder.read(output)).to be_empty
    expect(committed_total(group, topic)).to eq(0)
  end
end
