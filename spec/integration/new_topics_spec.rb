# frozen_string_literal: true

require 'spec_helper'

# A job topic created after the server started (a queue added in a deploy, a target topic
# first created by a scheduled dispatch) is consumed within seconds, also while the server's
# other topics exist and run jobs; not after librdkafka's 5-minute metadata refresh.
RSpec.describe 'Topics created after the server started' do
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "new-topics-#{SecureRandom.hex(4)}.jsonl") }
  let(:servers) { [] }

  after { servers.each(&:ensure_stopped) }

  def ids
    JobRecorder.read(output).map { |r| r['id'] }
  end

  it 'consumes a routed topic that appears while the others are already consumed' do
    existing = create_topic('new-topics-existing')
    late = "new-topics-late-#{SecureRandom.hex(4)}"
    server = ServerProcess.new(topics: [existing, late], group: group, output: output).start
    servers << server
    job_for(existing, SyncRecordingJob, 'on-existing').enqueue
    wait_until(timeout: 60, message: -> { "the job on the existing topic; log:\n#{server.log[-2000..]}" }) do
      ids.include?('on-existing')
    end

    Karafka::Admin.create_topic(late, 2)
    job_for(late, SyncRecordingJob, 'on-late').enqueue
    # librdkafka's default refresh would take up to 5 minutes; the fix's bound is 5 s plus a
    # rebalance, so 30 s leaves room for a loaded machine without hiding the bug.
    wait_until(timeout: 30, message: -> { "the job on the late topic; log:\n#{server.log[-2000..]}" }) do
      ids.include?('on-late')
    end
    expect(server.stop('TERM').exitstatus).to eq(0)
    expect(ids.sort).to eq(%w[on-existing on-late])
  end
end
