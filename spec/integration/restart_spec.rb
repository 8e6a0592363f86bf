# frozen_string_literal: true

require 'spec_helper'

# Issue 12, defect 6: without `group.instance.id` a restarted server waited for its dead
# predecessor's membership to expire (session.timeout.ms, 45 s) before it got any partition.
# `karafka server` is a static member by default, with a per-host slot in its id.
RSpec.describe 'Restarting a killed server' do
  let(:topic) { create_topic('restart', partitions: 2) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "restart-#{SecureRandom.hex(4)}.jsonl") }
  let(:ids) { Array.new(400) { |i| "job-#{i}" } }
  let(:servers) { [] }

  after { servers.each(&:ensure_stopped) }

  def start_server(env = {})
    ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 2, env: env).start.tap { |s| servers << s }
  end

  def runs_by(server)
    JobRecorder.read(output).count { |r| r['pid'] == server.pid }
  end

  def member_id(server)
    wait_until(message: -> { "the membership line; log:\n#{server.log}" }) { server.log[/static member (\S+)/, 1] }
  end

  it 'runs jobs again within seconds of a kill -9, as the same static member; a second server gets its own id' do
    ActiveJob.perform_all_later(ids.map { |id| job_for(topic, RecordingJob, id, nil, 20) })
    expect(Karafka.producer.flush(30_000)).to be(true)
    first = start_server
    wait_until(timeout: 60, message: -> { "jobs to run; log:\n#{first.log[-2000..]}" }) { runs_by(first) >= 20 }
    # A static member that stops for good keeps its partitions until its session expires:
    # a short session for this one, so its share does not wait 45 s.
    neighbour = start_server('SPEC_KAFKA' => 'session.timeout.ms=6000,heartbeat.interval.ms=2000')
    expect(member_id(neighbour)).not_to eq(member_id(first)), 'two servers on one host share no id'
    expect(neighbour.stop('TERM').exitstatus).to eq(0)
    first_id = member_id(first)
    first.stop('KILL')

    restarted_at = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    second = start_server
    wait_until(timeout: 20, message: -> { "a job within 20 s of the restart; log:\n#{second.log[-2000..]}" }) do
      runs_by(second).positive?
    end
    took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - restarted_at
    puts "  restart to first job: #{took.round(1)} s"
    expect(member_id(second)).to eq(first_id)
    wait_until(timeout: 60, message: 'every job') { (ids - JobRecorder.read(output).map { |r| r['id'] }).empty? }
    expect(second.stop('TERM').exitstatus).to eq(0)
  end

  it 'comes back as a new member when restarted with other routes, and gets the new topics' do
    added = create_topic('restart-added')
    short_session = { 'SPEC_KAFKA' => 'session.timeout.ms=6000,heartbeat.interval.ms=2000' }
    first = ServerProcess.new(topics: [topic], group: group, output: output, env: short_session).start
    servers << first
    first_id = member_id(first)
    expect(first.stop('TERM').exitstatus).to eq(0)

    job_for(added, RecordingJob, 'on-the-added-topic').enqueue
    expect(Karafka.producer.flush(10_000)).to be(true)
    second = ServerProcess.new(topics: [topic, added], group: group, output: output, env: short_session).start
    servers << second
    expect(member_id(second)).not_to eq(first_id), 'an id names the topics its member subscribes to'
    # Kafka hands a rejoining static member its old assignment without a rebalance: with the
    # first server's id, the added topic would never be assigned.
    wait_until(timeout: 60, message: -> { "the added topic's job; log:\n#{second.log[-2000..]}" }) do
      JobRecorder.read(output).any? { |r| r['id'] == 'on-the-added-topic' }
    end
    expect(second.stop('TERM').exitstatus).to eq(0)
  end
end
