# frozen_string_literal: true

require 'spec_helper'

# The executor's plain path in a real server: a logger above INFO, no persisted current
# attributes and no deadline declared (as in bench/karafka.rb and apps logging at WARN), so
# jobs run without any per-job event built. Every other integration server logs at INFO,
# persists attributes and declares deadlines, any of which keeps its jobs on the observed path.
RSpec.describe 'Jobs on the plain path (logger above INFO)' do
  after { @server&.ensure_stopped }

  let(:plain) { { 'SPEC_PLAIN_PATH' => '1' } }

  it 'runs each job once, in order, knowing where it is stored, and commits it' do
    start_scenario(env: plain)
    ids = Array.new(5) { |index| "plain-#{index}" }
    ids.each { |id| enqueue(RecordingJob, id) }

    wait_until(message: -> { "the 5 jobs; log:\n#{@server.log}" }) { ids.all? { |id| records_of(id).any? } }
    ran = records.select { |record| ids.include?(record['id']) }
    expect(ran.map { |record| record['id'] }).to eq(ids)
    expect(ran.map { |record| record['provider_job_id'] }).to eq(Array.new(5) { |offset| "#{@topic}/0/#{offset}" })
    wait_until(message: 'the 5 offsets committed') { committed_total(@group, @topic) == 5 }
    expect(@server.log).not_to include('performed')
  end

  it 'dead-letters a payload that is not a job and a failing job, with their errors, and runs the next one' do
    @dlq_retries = 0
    start_scenario(dlq: :topic, env: plain)
    produce_raw('not json')
    failed = enqueue(FailingJob, 'plain-doomed')
    enqueue(RecordingJob, 'plain-after')

    wait_until(message: -> { "the job after them; log:\n#{@server.log}" }) { records_of('plain-after').any? }
    dead = dead_letters(2)
    expect(dead.map { |message| message[:headers]['source_error_class'] }).to eq(%w[JSON::ParserError FixtureError])
    expect(dead.first[:payload]).to eq('not json')
    expect(JSON.parse(dead.last[:payload])).to include('job_class' => 'FailingJob', 'job_id' => failed.job_id)
    expect(@server.log).to include('consumer.consume.error')
    wait_until(message: 'the 3 offsets committed') { committed_total(@group, @topic) == 3 }
  end

  it 'logs each job to a logger at INFO assigned to config.logger at runtime, from the next job on' do
    start_scenario(env: plain)
    enqueue(RecordingJob, 'plain-before')
    enqueue(LoggerSwapJob) # offset 1: decided on the plain path before it swapped the logger
    enqueue(RecordingJob, 'plain-logged')

    wait_until(message: -> { "the job after the swap logged; log:\n#{@server.log}" }) do
      @server.log.include?("RecordingJob performed (#{@topic}/0/2)")
    end
    expect(@server.log.lines.grep(/ performed \(/).map { |line| line[%r{/0/\d+\)}] }).to eq(['/0/2)'])
  end
end
