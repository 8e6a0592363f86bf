# frozen_string_literal: true

require 'spec_helper'
require 'net/http'
require_relative '../fixtures/probe_jobs'

# Kubernetes probes, metrics and the process title of a real `karafka server`, over real HTTP.
RSpec.describe 'Health probes, metrics and the process title of a running server' do
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "probes-#{SecureRandom.hex(4)}.jsonl") }
  let(:release) { File.join(Dir.tmpdir, "probes-release-#{SecureRandom.hex(4)}") }
  let(:ports) { Array.new(3) { free_port } }
  let(:liveness) { ports[0] }
  let(:readiness) { ports[1] }
  let(:metrics_port) { ports[2] }

  after do
    @server&.ensure_stopped
    FileUtils.rm_f(release)
  end

  def free_port
    server = TCPServer.new('127.0.0.1', 0)
    server.addr[1]
  ensure
    server&.close
  end

  def start_server(topic, env = {})
    @server = ServerProcess.new(
      topics: [topic], group: group, output: output, concurrency: 3,
      env: { 'KARAFKA_BOOT_FILE' => File.expand_path('../fixtures/probes_karafka.rb', __dir__),
             'SPEC_LIVENESS_PORT' => liveness.to_s, 'SPEC_READINESS_PORT' => readiness.to_s,
             'SPEC_METRICS_PORT' => metrics_port.to_s, 'SPEC_KAFKA' => 'statistics.interval.ms=500' }.merge(env)
    ).start
  end

  # @return [Array(Integer, String), nil] status and body, nil while nothing listens
  def get(port, path = '/')
    response = Net::HTTP.start('127.0.0.1', port, open_timeout: 2, read_timeout: 5) { |http| http.get(path) }
    [response.code.to_i, response.body]
  rescue Errno::ECONNREFUSED, Errno::ECONNRESET, EOFError
    nil
  end

  def records
    JobRecorder.read(output)
  end

  def server_log
    -> { "log:\n#{@server.log[-4000..]}" }
  end

  def enqueue(topic, *jobs)
    ActiveJob.perform_all_later(jobs.map { |klass, *args| job_for(topic, klass, *args) })
    expect(Karafka.producer.flush(30_000)).to be(true)
  end

  it 'is ready and live while jobs flow, names a stuck job, and is not ready while draining' do
    topic = create_topic('probes')
    # No statistics: nothing but the loop's own tick proves it alive within polling_ttl.
    start_server(topic, 'SPEC_CONSUMING_TTL' => '1500', 'SPEC_POLLING_TTL' => '1500', 'SPEC_KAFKA' => '')

    status, body = wait_until(message: server_log) { (r = get(readiness)) && r.first == 200 && r }
    expect(JSON.parse(body)).to include('status' => 'healthy', 'ready' => true, 'state' => 'running')
    expect(status).to eq(200)

    enqueue(topic, *Array.new(5) { |i| [RecordingJob, "flow-#{i}"] })
    wait_until(message: server_log) { records.size == 5 }
    # Idle for longer than polling_ttl: still live.
    idle_until = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 3
    idle_statuses = []
    wait_until(timeout: 5) do
      idle_statuses << get(liveness).first
      Process.clock_gettime(Process::CLOCK_MONOTONIC) > idle_until
    end
    expect(idle_statuses.uniq).to eq([200])
    status, body = get(liveness)
    expect(status).to eq(200)
    expect(JSON.parse(body)).to include('status' => 'healthy', 'process_id' => @server.pid,
                                        'errors' => { 'polling_ttl_exceeded' => false,
                                                      'consumption_ttl_exceeded' => false,
                                                      'unrecoverable' => false })

    enqueue(topic, [BlockingJob, 'stuck', release])
    wait_until(message: server_log) { records.any? { |r| r['id'] == 'stuck' } }
    expect(get(liveness).first).to eq(200) # within consuming_ttl
    status, body = wait_until(timeout: 10, message: server_log) { (r = get(liveness)) && r.first == 500 && r }
    expect(JSON.parse(body)).to include('status' => 'unhealthy',
                                        'errors' => include('consumption_ttl_exceeded' => true,
                                                            'polling_ttl_exceeded' => false))
    expect(status).to eq(500)
    expect(get(readiness).first).to eq(200) # a stuck worker is liveness' business

    FileUtils.touch(release)
    wait_until(message: server_log) { records.any? { |r| r['id'] == 'stuck' && r['blocking'] == 'finished' } }
    wait_until(timeout: 5, message: server_log) { get(liveness)&.first == 200 }

    # A drain that lasts: readiness answers 503 from app.stopping until the server exits.
    FileUtils.rm_f(release)
    enqueue(topic, [BlockingJob, 'draining', release])
    wait_until(message: server_log) { records.any? { |r| r['id'] == 'draining' } }
    Process.kill('TERM', @server.pid)
    status, body = wait_until(timeout: 10, message: server_log) { (r = get(readiness)) && r.first == 503 && r }
    expect(JSON.parse(body)).to include('status' => 'unhealthy', 'ready' => false, 'state' => 'stopping')
    expect(status).to eq(503)
    FileUtils.touch(release)
    expect(@server.wait(60).exitstatus).to eq(0)
    expect(get(readiness)).to be_nil
    expect(get(liveness)).to be_nil
  end

  it 'answers 500 naming polling_ttl_exceeded while a listener stalls the consumer loop' do
    topic = create_topic('probes-stall')
    stall = "#{release}-stall"
    start_server(topic, 'SPEC_POLLING_TTL' => '2000', 'SPEC_STALL_FILE' => stall)
    wait_until(message: server_log) { get(readiness)&.first == 200 }
    expect(get(liveness).first).to eq(200)

    FileUtils.touch(stall)
    status, body = wait_until(timeout: 15, message: server_log) { (r = get(liveness)) && r.first == 500 && r }
    expect(JSON.parse(body)['errors']).to include('polling_ttl_exceeded' => true, 'consumption_ttl_exceeded' => false)
    expect(status).to eq(500)

    FileUtils.rm_f(stall)
    wait_until(timeout: 10, message: server_log) { get(liveness)&.first == 200 }
    enqueue(topic, [RecordingJob, 'after-stall'])
    wait_until(message: server_log) { records.any? { |r| r['id'] == 'after-stall' } }
    expect(@server.stop('TERM').exitstatus).to eq(0)
  end

  it 'is unhealthy for good once librdkafka reports a fatal error (a fenced static member)' do
    topic = create_topic('probes-fenced')
    instance = "probes-#{SecureRandom.hex(4)}"
    start_server(topic, 'SPEC_INSTANCE_ID' => instance)
    first = @server
    wait_until(message: server_log) { get(readiness)&.first == 200 }
    expect(get(liveness).first).to eq(200)

    # A second process with the same group.instance.id fences the first one.
    other_ports = Array.new(3) { free_port }
    @other = ServerProcess.new(
      topics: [topic], group: group, output: output, concurrency: 1,
      env: { 'KARAFKA_BOOT_FILE' => File.expand_path('../fixtures/probes_karafka.rb', __dir__),
             'SPEC_LIVENESS_PORT' => other_ports[0].to_s, 'SPEC_READINESS_PORT' => other_ports[1].to_s,
             'SPEC_METRICS_PORT' => other_ports[2].to_s, 'SPEC_INSTANCE_ID' => instance }
    ).start
    status, body = wait_until(timeout: 30, message: -> { "fencing; log:\n#{first.log[-4000..]}" }) do
      (r = get(liveness)) && r.first == 500 && r
    end
    expect(JSON.parse(body)['errors']).to include('unrecoverable' => 'fatal')
    expect(status).to eq(500)
  ensure
    @other&.ensure_stopped
  end

  it 'counts processed, failed, retried and dead-lettered jobs, busy workers and the lag, as the server did' do
    topic = create_topic('metrics')
    dlq = create_topic('metrics-dlq')
    # independent: each job gets its own retry budget (one retry, then the dead letter topic).
    start_server(topic, 'SPEC_DLQ' => "#{dlq}:1:true", 'SPEC_PAUSE_TIMEOUT' => '100')
    wait_until(message: server_log) { get(readiness)&.first == 200 }

    enqueue(topic, *Array.new(6) { |i| [RecordingJob, "ok-#{i}"] }, [FlakyJob, 'flaky', 1], [FailingJob, 'doomed'])
    wait_until(timeout: 60, message: server_log) do
      records.count { |r| r['id'] == 'doomed' } == 2 && records.any? { |r| r['id'] == 'flaky' && r['ok'] }
    end
    # The dead letter is on its topic before the counters are compared.
    wait_until(timeout: 30, message: server_log) { SpecKafka.topic_size(dlq, 1) == 1 }

    expected = { 'jobs_processed' => 7, 'jobs_failed' => 3, 'jobs_retried' => 2, 'jobs_dead_lettered' => 1 }
    text = wait_until(timeout: 10, message: server_log) do
      body = get(metrics_port, '/metrics')&.last
      body if body && expected.all? { |name, value| body.include?(%(karafka_#{name}_total{topic="#{topic}"} #{value})) }
    end
    expect(text).to include("karafka_concurrency 3\n")

    # Lag per partition from statistics.emitted: jobs waiting behind a blocked one.
    enqueue(topic, [BlockingJob, 'hold', release], *Array.new(3) { |i| [RecordingJob, "behind-#{i}"] })
    wait_until(message: server_log) { records.any? { |r| r['id'] == 'hold' } }
    wait_until(timeout: 15, message: -> { "lag and busy; metrics:\n#{get(metrics_port, '/metrics')&.last}" }) do
      body = get(metrics_port, '/metrics')&.last.to_s
      lag = body[/karafka_consumer_lag\{topic="#{topic}",partition="0"\} (\d+)/, 1]
      lag && Integer(lag) >= 1 && body.include?("karafka_busy 1\n")
    end

    # The process title of the real server process shows the busy worker.
    cmdline = wait_until(timeout: 5, message: -> { File.read("/proc/#{@server.pid}/cmdline").inspect }) do
      title = File.read("/proc/#{@server.pid}/cmdline").delete("\0")
      title if title.start_with?('karafka karafka_rs_spec (running) busy 1/3')
    end
    expect(cmdline).to start_with('karafka karafka_rs_spec (running) busy 1/3')

    FileUtils.touch(release)
    wait_until(message: server_log) { records.count { |r| r['id'].to_s.start_with?('behind-') } == 3 }
    expect(@server.stop('TERM').exitstatus).to eq(0)
  end
end
