# frozen_string_literal: true

require 'spec_helper'
require_relative '../fixtures/swarm_jobs'

# `karafka swarm` as a child process (spec/fixtures/swarm_karafka.rb), against the real broker.
class SwarmProcess < ServerProcess
  # @return [Integer] the supervisor's pid
  attr_reader :pid

  def initialize(args: [], **options)
    super(**options)
    @args = args
    @env['KARAFKA_BOOT_FILE'] = File.join(ROOT, 'spec/fixtures/swarm_karafka.rb')
  end

  # @return [Boolean] the supervisor exited (its status is kept for #wait)
  def exited?
    @status ||= reap(Process::WNOHANG)
    !@status.nil?
  end

  def wait(timeout)
    @status || super
  end

  def alive?
    !exited?
  end

  def start
    launch('swarm', *@args)
  end

  # @return [Hash{Integer => Integer}] node id => pid of every node start logged so far (the latest)
  def node_pids
    log.scan(/node (\d+) started \(pid (\d+)\)/).to_h { |id, pid| [id.to_i, pid.to_i] }
  end

  # @return [Array<Integer>] pids that logged a partition assignment
  def assigned_pids
    log.scan(/#(\d+)\]\s+INFO -- : Assigned partitions/).flatten.map(&:to_i).uniq
  end
end

RSpec.describe 'karafka swarm' do
  let(:topic) { create_topic('swarm', partitions: 4) }
  let(:group) { unique_group('swarm') }
  let(:output) { File.join(Dir.tmpdir, "swarm-#{SecureRandom.hex(4)}.jsonl") }
  let(:swarms) { [] }

  after { swarms.each(&:ensure_stopped) }

  def start_swarm(topics: [topic], args: [], env: {})
    SwarmProcess.new(topics: topics, group: group, output: output, concurrency: 2, args: args,
                     env: { 'SPEC_NODES' => '2' }.merge(env)).start.tap { |swarm| swarms << swarm }
  end

  def records
    JobRecorder.read(output)
  end

  def enqueue(count, prefix, target = topic, sleep_ms = 0)
    ActiveJob.perform_all_later(Array.new(count) { |i| job_for(target, RecordingJob, "#{prefix}-#{i}", nil, sleep_ms) })
    expect(Karafka.producer.flush(30_000)).to be(true)
  end

  def wait_for_ids(ids, swarm, timeout: 90)
    wait_until(timeout: timeout, message: -> { "#{ids.size} jobs (#{(ids - records.map { |r| r['id'] }).size} missing); log:\n#{swarm.log[-3000..]}" }) do
      (ids - records.map { |r| r['id'] }).empty?
    end
  end

  # Both nodes are members of the group and own partitions (the first one to join takes all
  # four until the second joins and the group rebalances).
  def wait_for_both_members(swarm)
    wait_until(timeout: 60, message: -> { "both nodes assigned; log:\n#{swarm.log[-3000..]}" }) do
      raise "karafka swarm exited: #{swarm.wait(0).inspect}; log:\n#{swarm.log[-3000..]}" if swarm.exited?

      swarm.assigned_pids.size >= 2
    end
  end

  def proctitle(pid)
    File.read("/proc/#{pid}/cmdline").tr("\0", ' ').strip
  end

  # What a quiet node does is spec/integration/quiet_spec.rb's; here, that the supervisor passes
  # both signals on to every node.
  it 'passes TSTP and TTIN on to every node: each quiets and logs its backtraces, and the swarm exits 0 on TERM' do
    swarm = start_swarm
    wait_for_both_members(swarm)
    nodes = swarm.node_pids

    Process.kill('TSTP', swarm.pid)
    wait_until(timeout: 60, message: -> { "both nodes quiet; log:\n#{swarm.log[-3000..]}" }) do
      nodes.values.all? { |pid| proctitle(pid).end_with?('(quiet)') }
    end
    Process.kill('TTIN', swarm.pid)
    wait_until(message: -> { "both nodes' backtraces; log:\n#{swarm.log[-3000..]}" }) do
      swarm.log.scan(/#(\d+)\]\s+INFO -- : Received SIGTTIN system signal/).flatten.map(&:to_i).sort == nodes.values.sort
    end

    expect(swarm.stop('TERM', timeout: 60).exitstatus).to eq(0), swarm.log[-3000..]
    expect(swarm.log).to include('karafka swarm: TSTP received, passed on to 2 node(s)')
    expect(swarm.node_pids).to eq(nodes) # no node was restarted
  end

  it 'runs each job once over nodes in different pids, applies the filters, and exits 0 on SIGTERM' do
    other = create_topic('swarm-filtered-out', partitions: 1)
    swarm = start_swarm(topics: [topic, other], args: ['--include-topics', topic],
                        env: { 'SPEC_BOOT_ENQUEUE' => topic })
    wait_for_both_members(swarm)
    nodes = swarm.node_pids
    expect(nodes.keys).to eq([0, 1])
    expect(proctitle(swarm.pid)).to eq('karafka#karafka_rs_spec supervisor')
    # The node's name, then what its ProctitleListener adds: `(running) busy N/M`.
    expect(nodes.map { |_id, pid| proctitle(pid) })
      .to match([/\Akarafka#karafka_rs_spec node 0\b/, /\Akarafka#karafka_rs_spec node 1\b/])

    enqueue(400, 'job')
    enqueue(5, 'excluded', other)
    wait_for_ids(['enqueued-at-boot'] + Array.new(400) { |i| "job-#{i}" }, swarm)

    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    status = swarm.stop('TERM', timeout: 60)
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    expect(status.exitstatus).to eq(0), swarm.log[-3000..]
    expect(elapsed).to be < 30 # shutdown_timeout

    ids = records.map { |record| record['id'] }
    expect(ids.tally.select { |_, count| count > 1 }).to be_empty
    expect(ids.grep(/excluded/)).to be_empty
    expect(committed_total(group, other)).to eq(0)
    job_pids = records.map { |record| record['pid'] }.uniq
    expect(job_pids).to match_array(nodes.values)
    # The job karafka.rb enqueued in the supervisor while booting: flushed and closed before
    # the fork, run by a node.
    boot = records.find { |record| record['id'] == 'enqueued-at-boot' }
    expect(boot['payload']).to eq(swarm.pid)
    expect(nodes.values).to include(boot['pid'])
    expect(swarm.log).to include('closed the Kafka producer(s) used in the supervisor at boot')
    expect(swarm.log).to include('karafka swarm: every node stopped')
    expect(nodes.values.none? { |pid| File.exist?("/proc/#{pid}") }).to be(true)
  end

  it 'replaces a node killed with SIGKILL; the jobs keep running and committed ones do not run again' do
    swarm = start_swarm(env: { 'SPEC_NODE_RESTART_TIMEOUT' => '1000',
                               'SPEC_INSTANCE_ID' => "#{group}-member" })
    wait_for_both_members(swarm)
    ids = Array.new(2_000) { |i| "job-#{i}" }
    enqueue(2_000, 'job', topic, 5)
    wait_until(timeout: 60, message: 'some progress') { records.size >= 300 }

    victim, survivor = swarm.node_pids.values_at(0, 1)
    log_before = swarm.log.size
    Process.kill('KILL', victim)
    killed_at = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    replacement = wait_until(timeout: 30, message: -> { "node 0 restarted; log:\n#{swarm.log[-3000..]}" }) do
      pid = swarm.node_pids.fetch(0)
      pid unless pid == victim
    end
    wait_until(timeout: 60, message: -> { "a job in the new node; log:\n#{swarm.log[-3000..]}" }) do
      records.any? { |record| record['pid'] == replacement }
    end
    resumed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - killed_at
    wait_for_ids(ids, swarm)
    expect(swarm.stop('TERM', timeout: 60).exitstatus).to eq(0)

    expect(swarm.log).to match(/node 0 \(pid #{victim}\) exited with signal KILL; restarting in/)
    # Static membership: the replacement took node 0's partitions back without a rebalance,
    # so the other node kept its partitions (and its jobs running) throughout.
    expect(swarm.log[log_before..]).not_to match(/##{survivor}\]\s+INFO -- : Revoked partitions/)
    # A job runs twice only when the killed node had finished it without committing it yet.
    repeated = records.group_by { |record| record['id'] }.select { |_, runs| runs.size > 1 }
    expect(repeated.values.map { |runs| runs.first['pid'] }.uniq - [victim]).to be_empty
    expect(repeated.size).to be < 300
    warn "  [swarm] kill -9 -> the replacement node ran its first job after #{resumed.round(2)} s " \
         "(node_restart_timeout 1 s, static membership); #{repeated.size} uncommitted job(s) repeated"
  end

  it 'stops and replaces a node that stops reporting' do
    swarm = start_swarm(env: { 'SPEC_NODES' => '1', 'SPEC_LIVENESS_INTERVAL' => '200',
                               'SPEC_NODE_REPORT_TIMEOUT' => '2000', 'SPEC_SHUTDOWN_TIMEOUT' => '2000',
                               'SPEC_NODE_RESTART_TIMEOUT' => '200' })
    wait_until(timeout: 60, message: -> { "the node assigned; log:\n#{swarm.log}" }) { swarm.assigned_pids.size == 1 }
    frozen = swarm.node_pids.fetch(0)
    Process.kill('STOP', frozen) # it can neither report nor handle the TERM it will get

    replacement = wait_until(timeout: 30, message: -> { "a replacement; log:\n#{swarm.log}" }) do
      pid = swarm.node_pids.fetch(0)
      pid unless pid == frozen
    end
    expect(swarm.log).to include("node 0 (pid #{frozen}) sent no report for 2000 ms (node_report_timeout)")
    expect(swarm.log).to include("node 0 (pid #{frozen}) still running after shutdown_timeout (2000 ms); killing it")
    enqueue(20, 'after')
    wait_for_ids(Array.new(20) { |i| "after-#{i}" }, swarm)
    expect(records.map { |record| record['pid'] }.uniq).to eq([replacement])
    expect(swarm.stop('TERM', timeout: 60).exitstatus).to eq(0)
  end

  it 'kills the nodes still busy after shutdown_timeout and exits non-zero, saying so' do
    swarm = start_swarm(env: { 'SPEC_NODES' => '1', 'SPEC_SHUTDOWN_TIMEOUT' => '1500' })
    wait_until(timeout: 60, message: -> { "the node assigned; log:\n#{swarm.log}" }) { swarm.assigned_pids.size == 1 }
    ActiveJob.perform_all_later([job_for(topic, SwarmSlowJob, 'slow', 20)])
    expect(Karafka.producer.flush(30_000)).to be(true)
    wait_until(timeout: 30, message: -> { "the slow job to start; log:\n#{swarm.log}" }) { records.any? }
    node = swarm.node_pids.fetch(0)

    status = swarm.stop('TERM', timeout: 30)
    expect(status.exitstatus).to eq(2), swarm.log[-3000..]
    expect(swarm.log).to include('1 node(s) killed after shutdown_timeout: node 0')
    expect(File.exist?("/proc/#{node}")).to be(false)
  end

  it 'stops its nodes gracefully when the supervisor itself is killed' do
    swarm = start_swarm
    wait_for_both_members(swarm)
    nodes = swarm.node_pids.values
    swarm.stop('KILL', timeout: 10)
    wait_until(timeout: 30, message: -> { "orphaned nodes to exit; log:\n#{swarm.log[-3000..]}" }) do
      nodes.none? { |pid| File.exist?("/proc/#{pid}") && !File.read("/proc/#{pid}/stat").split[2].eql?('Z') }
    end
    expect(swarm.log.scan('Stopped Karafka server').size).to eq(2)
  end

  it 'refuses a filter naming no route, as karafka server does, before forking anything' do
    swarm = start_swarm(args: ['--include-topics', 'no-such-topic'])
    expect(swarm.wait(30).exitstatus).to eq(1)
    expect(swarm.log).to include('karafka swarm --include-topics no-such-topic: no route has topics no-such-topic')
    expect(swarm.log).not_to include('node 0 started')
  end

  it 'exits 1 with the nodes\' error when they cannot start' do
    swarm = start_swarm(env: { 'SPEC_KAFKA' => 'no.such.property=1', 'SPEC_NODE_RESTART_TIMEOUT' => '100' })
    status = swarm.wait(60)
    expect(status.exitstatus).to eq(1)
    expect(swarm.log).to include('failed to start 3 times in a row; giving up', 'no.such.property')
    expect(swarm.log).to include('karafka swarm: nodes cannot start:')
  end
end

RSpec.describe 'config.swarm and config.internal.swarm' do
  after { configure_spec_app }

  it 'defaults to one node per CPU and to Karafka\'s supervision timeouts' do
    config = Karafka::App.config
    expect(config.swarm.nodes).to eq(Etc.nprocessors)
    expect(config.swarm.node).to be(false)
    expect(config.internal.swarm).to have_attributes(liveness_interval: 10_000, node_report_timeout: 60_000,
                                                     node_restart_timeout: 5_000, supervision_interval: 30_000,
                                                     orphaned_exit_code: 3, forceful_exit_code: 2)
    config.internal.swarm.node_report_timeout = 2_000
    expect(config.internal.swarm.node_report_timeout).to eq(2_000)
    expect { config.internal.swarm.liveness_listener = Object.new }
      .to raise_error(Karafka::Errors::UnsupportedFeatureError, /config\.internal\.swarm\.liveness_listener is not a karafka-rs setting/)
  end

  it 'refuses a node count or a timeout that is not a positive integer, naming the setting' do
    require 'karafka/swarm/supervisor'
    Karafka::App.config.swarm.nodes = 0
    expect { Karafka::Swarm::Supervisor.new.run }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /config\.swarm\.nodes must be a positive integer/)
    Karafka::App.config.swarm.nodes = 2
    Karafka::App.config.internal.swarm.node_report_timeout = -1
    expect { Karafka::Swarm::Supervisor.new.run }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /config\.internal\.swarm\.node_report_timeout/)
  end
end
