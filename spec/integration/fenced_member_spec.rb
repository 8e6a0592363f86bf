# frozen_string_literal: true

require 'spec_helper'

# A static member fenced by another one with its group.instance.id gets a fatal librdkafka
# error (FENCED_INSTANCE_ID): its group calls fail from then on. Before the reset, the fenced
# server went on running what its fetcher still delivered, and never committed an offset
# again, until someone restarted it. Like Karafka's
# listener, it now reports the error, replaces its consumer with a new one of the same
# settings and goes on; nothing is lost (a job may run again).
RSpec.describe 'A static member fenced by a second server with its group.instance.id' do
  let(:topic) { create_topic('fenced', partitions: 2) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "fenced-#{SecureRandom.hex(4)}.jsonl") }
  let(:ids) { Array.new(300) { |i| "job-#{i}" } }
  let(:servers) { [] }

  after { servers.each(&:ensure_stopped) }

  def start_server
    ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 2,
                      env: { 'SPEC_INSTANCE_ID' => "#{group}-member" }).start.tap { |s| servers << s }
  end

  def records
    JobRecorder.read(output)
  end

  it 'reports the fatal error, builds a new consumer and runs every job' do
    ActiveJob.perform_all_later(ids.map { |id| job_for(topic, RecordingJob, id, nil, 20) })
    expect(Karafka.producer.flush(30_000)).to be(true)
    first = start_server
    wait_until(timeout: 60, message: -> { "the first server to run jobs; log:\n#{first.log[-2000..]}" }) do
      records.count { |r| r['pid'] == first.pid } >= 20
    end

    second = start_server
    wait_until(timeout: 90, message: -> { "the first server to reset its consumer; log:\n#{first.log[-3000..]}" }) do
      first.log.include?('consumer reset after a fatal error')
    end
    # Its new consumer took the id back (and fences the second one in turn): stop the second.
    expect(second.stop('TERM').exitstatus).to eq(0)
    # Jobs only the first server can run now: its new consumer must.
    later = Array.new(50) { |i| "later-#{i}" }
    ActiveJob.perform_all_later(later.map { |id| job_for(topic, RecordingJob, id) })
    expect(Karafka.producer.flush(30_000)).to be(true)

    wait_until(timeout: 120, message: -> { "every job; missing #{(ids + later - records.map { |r| r['id'] }).size}; log:\n#{first.log[-3000..]}" }) do
      (ids + later - records.map { |r| r['id'] }).empty?
    end
    expect(records.select { |r| later.include?(r['id']) }.map { |r| r['pid'] }.uniq).to eq([first.pid])
    # Committed by a live member: a fenced consumer goes on fetching, but the group refuses
    # its commits (before the reset, these offsets were never committed).
    wait_until(timeout: 60, message: -> { "every offset committed (#{committed_total(group, topic)}); log:\n#{first.log[-3000..]}" }) do
      committed_total(group, topic) == ids.size + later.size
    end
    expect(first).to be_alive
    log = first.log
    expect(log).to match(/connection\.listener\.fetch_loop\.error: .*(FENCED_INSTANCE_ID|fenced)/i)
    expect(log).to include('consumer reset after a fatal error')
    expect(first.stop('TERM').exitstatus).to eq(0)
  end
end
