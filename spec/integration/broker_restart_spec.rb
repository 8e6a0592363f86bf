# frozen_string_literal: true

require 'spec_helper'

# The broker goes away mid-processing and comes back: the server recovers on its own.
# Host lane only: it stops and restarts the broker with bin/kafka (Java), and a broker started
# from inside bin/lane's chroot would live on in that lane's mount namespace after the lane's
# command ends. What it tests (librdkafka reconnecting, the engine resuming) is in Rust and the
# same for every Ruby.
RSpec.describe 'A broker restart during processing',
               lane: :host,
               lane_reason: 'restarts the broker with bin/kafka; a JVM started in the chroot would outlive the lane' do
  # It stops and starts the broker of this checkout's bin/kafka, so it runs only where that
  # broker is the one the specs use (bin/test, or KAFKA_PORT set to its port). Elsewhere (a
  # worktree using a broker another checkout started) `bin/kafka stop` found nothing to stop
  # and `bin/kafka start` tried to start a second broker on the specs' port.
  root = File.expand_path('../..', __dir__)
  port_file = File.join(root, 'tmp/kafka/kafka.port')
  own_port = File.read(port_file).strip if File.exist?(port_file)
  before { skip "this checkout's bin/kafka broker is not the specs' broker" unless own_port && SpecKafka.bootstrap.end_with?(":#{own_port}") }

  let(:topic) { create_topic('broker-restart', partitions: 2) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "broker-restart-#{SecureRandom.hex(4)}.jsonl") }
  let(:kafka_script) { File.expand_path('../../bin/kafka', __dir__) }
  let(:ids) { Array.new(600) { |i| "job-#{i}" } }

  after { @server&.ensure_stopped }

  def kafka(command)
    system(kafka_script, command, out: File::NULL, err: File::NULL) or raise "bin/kafka #{command} failed"
  end

  def performed
    JobRecorder.read(output).map { |r| r['id'] }
  end

  it 'loses nothing and needs no server restart' do
    ActiveJob.perform_all_later(ids.map { |id| job_for(topic, RecordingJob, id, nil, 5) })
    expect(Karafka.producer.flush(30_000)).to be(true)
    @server = ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 2).start
    wait_until(message: 'processing to start') { performed.size >= 100 }

    kafka('stop')
    begin
      expect(@server).to be_alive
    ensure
      kafka('start')
    end

    wait_until(timeout: 120, message: -> { "every job after the restart; log:\n#{@server.log[-3000..]}" }) do
      (ids - performed).empty?
    end
    expect(@server).to be_alive
    expect(@server.stop('TERM').exitstatus).to eq(0)
    expect(performed.uniq.sort).to eq(ids.sort)
  end
end
