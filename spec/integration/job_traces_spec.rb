# frozen_string_literal: true

require 'spec_helper'

# config.active_job.traces against the real broker: the enqueuing context's traceparent /
# tracestate go into the job's headers and are the job's context around perform.
RSpec.describe 'Job traces' do
  let(:topic) { create_topic('traces') }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "traces-#{SecureRandom.hex(4)}.jsonl") }
  let(:context) { { 'traceparent' => "00-#{SecureRandom.hex(16)}-#{SecureRandom.hex(8)}-01", 'tracestate' => 'vendor=abc' } }
  let(:servers) { [] }

  before { Karafka::App.config.active_job.traces = true }

  after do
    servers.each(&:ensure_stopped)
    Karafka::App.config.active_job.traces = false
  end

  def records(kind)
    JobRecorder.read(output).select { |record| record['kind'] == kind }
  end

  it 'carries the trace context through Kafka headers to perform, its events and no other job' do
    Karafka::ActiveJob::Trace.with(context) { job_for(topic, TracedJob, 'traced').enqueue }
    job_for(topic, TracedJob, 'untraced').enqueue
    Karafka.producer.flush(10_000)
    headers = Karafka::Admin.read_topic(topic, 0, 2, 0).map(&:headers)
    expect(headers.first).to include(context)
    expect(headers.last.keys).not_to include('traceparent', 'tracestate')

    server = ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 1,
                               env: { 'SPEC_TRACES' => '1', 'SPEC_FEATURE_EVENTS' => '1' }).start
    servers << server
    wait_until(message: -> { server.log[-3000..] }) { records('performed').size == 2 }

    expect(records('performed').map { |r| [r['id'], r['trace']] }).to eq([['traced', context], ['untraced', nil]])
    expect(records('perform_event').map { |r| r['trace'] }).to eq([context, nil])
    expect(records('consume_event').map { |r| r['trace'] }).to eq([context, nil])
  end
end
