# frozen_string_literal: true

require 'net/http'
require 'spec_helper'

# Deadlines against the real broker: a job past its deadline is reported (event, log line,
# liveness), never stopped; a job within its deadline is not.
RSpec.describe 'Job deadlines' do
  let(:topic) { create_topic('deadlines') }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "deadlines-#{SecureRandom.hex(4)}.jsonl") }
  let(:release) { File.join(Dir.tmpdir, "deadlines-release-#{SecureRandom.hex(4)}") }
  let(:port) { rand(19_150..19_159) }
  let(:servers) { [] }

  after do
    servers.each(&:ensure_stopped)
    FileUtils.rm_f(release)
  end

  def start_server(env = {})
    ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 2,
                      env: { 'SPEC_FEATURE_EVENTS' => '1' }.merge(env)).start.tap { |server| servers << server }
  end

  def records(kind)
    JobRecorder.read(output).select { |record| record['kind'] == kind }
  end

  def liveness
    response = Net::HTTP.get_response(URI("http://127.0.0.1:#{port}/"))
    [response.code.to_i, JSON.parse(response.body)]
  rescue Errno::ECONNREFUSED
    nil
  end

  it 'reports a job past karafka_options(deadline:) once, turns the liveness probe unhealthy after the grace, and lets it finish' do
    server = start_server('SPEC_OVERDUE_LIVENESS_PORT' => port.to_s)
    job = job_for(topic, OverdueJob, 'slow', release).tap(&:enqueue)
    wait_until(message: -> { server.log[-3000..] }) { records('overdue').any? }

    overdue = records('overdue')
    expect(overdue.size).to eq(1)
    expect(overdue.first).to include('job_id' => job.job_id, 'deadline' => 0.3)
    expect(overdue.first['running_for']).to be >= 0.3
    expect(server.log).to match(%r{\[#{job.job_id}\] OverdueJob overdue: running for [\d.]+ s, deadline 0\.3 s \(#{topic}/0/0\)})
    code, body = wait_until(message: 'an unhealthy liveness probe') { (status = liveness) && status.first == 500 && status }
    expect(code).to eq(500)
    expect(body['errors']).to include('overdue_grace_exceeded' => true)
    expect(records('finished')).to be_empty # reported, not stopped

    FileUtils.touch(release)
    wait_until(message: 'the overdue job to finish') { records('finished').any? }
    wait_until(message: 'a healthy liveness probe again') { liveness&.first == 200 }
    wait_until(message: 'its offset committed') { committed_total(group, topic) == 1 }
    expect(records('overdue').size).to eq(1)
  end

  it 'applies config.active_job.deadline to job classes without their own, and reports nothing within it' do
    FileUtils.touch(release) # the released job returns at once
    start_server('SPEC_DEADLINE' => '30')
    job_for(topic, ReleasedJob, 'quick', release).enqueue
    wait_until(message: 'the quick job') { records('finished').any? }
    FileUtils.rm_f(release)
    slow = job_for(topic, ReleasedJob, 'slow', release)
    servers.last.stop
    servers.clear
    start_server('SPEC_DEADLINE' => '0.3')
    slow.enqueue
    wait_until(message: -> { servers.last.log[-3000..] }) { records('overdue').any? }
    expect(records('overdue').map { |r| [r['job_id'], r['deadline']] }).to eq([[slow.job_id, 0.3]])
    FileUtils.touch(release)
    wait_until(message: 'the slow job to finish') { records('finished').size == 2 }
  end
end
