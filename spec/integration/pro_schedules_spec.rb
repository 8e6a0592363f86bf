# frozen_string_literal: true

require 'spec_helper'
require 'zlib'

# Schedules left pending by Karafka Pro survive a switch to karafka-rs, and karafka-rs writes
# that format too. The messages below are written by hand with the headers of Karafka Pro's
# public docs (Pro/Scheduled-Messages, "External Producers Support"): schedule_schema_version,
# schedule_target_epoch (seconds), schedule_source_type, schedule_target_*; a cancel is a
# null payload under the schedule's key.
RSpec.describe 'Karafka Pro scheduled messages (migration)' do
  let(:topic) { create_topic('pro-target', partitions: 3) }
  let(:schedules) { create_topic('pro-schedules', partitions: 2) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "pro-schedules-#{SecureRandom.hex(4)}.jsonl") }
  let(:servers) { [] }

  after { servers.each(&:ensure_stopped) }

  def start_server
    ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 2,
                      env: { 'SPEC_SCHEDULES' => schedules }).start.tap { |s| servers << s }
  end

  def records
    JobRecorder.read(output)
  end

  def pro_schedule(id, epoch, envelope_key:, **target)
    headers = { 'schedule_schema_version' => '1.0.0', 'schedule_target_epoch' => epoch.to_i.to_s,
                'schedule_source_type' => 'schedule', 'schedule_target_topic' => topic, 'trace' => id }
    target.each { |name, value| headers["schedule_target_#{name}"] = value.to_s }
    payload = JSON.generate(job_for(topic, RecordingJob, id).serialize)
    Karafka.producer.produce_sync(topic: schedules, key: envelope_key, payload: payload, headers: headers)
  end

  def field(message, name)
    message.is_a?(Hash) ? message[name] : message.public_send(name)
  end

  it 'dispatches schedules Karafka Pro stored (seconds, key / partition_key / partition), skipping cancelled ones' do
    now = Time.now.to_i
    pro_schedule('past', now - 60, envelope_key: "#{topic}-a", partition: 2)
    pro_schedule('soon', now + 2, envelope_key: "#{topic}-b", partition_key: 'user-7')
    pro_schedule('keyed', now + 2, envelope_key: "#{topic}-c", key: 'user-8')
    pro_schedule('cancelled', now + 2, envelope_key: "#{topic}-d")
    Karafka.producer.produce_sync(topic: schedules, key: "#{topic}-d", payload: nil,
                                  headers: { 'schedule_source_type' => 'cancel' })

    server = start_server
    wait_until(timeout: 45, message: -> { "the Pro schedules; ran #{records}; log:\n#{server.log[-3000..]}" }) do
      records.size >= 3
    end
    expect(server.stop('TERM').exitstatus).to eq(0)

    ran = records.to_h { |r| [r['id'], r] }
    expect(ran.keys.sort).to eq(%w[keyed past soon])
    expect(ran['soon']['started']).to be >= now + 2
    expect(ran['past']['provider_job_id']).to start_with("#{topic}/2/")
    expect(ran['soon']['provider_job_id']).to start_with("#{topic}/#{Zlib.crc32('user-7') % 3}/")
    expect(ran['keyed']['provider_job_id']).to start_with("#{topic}/#{Zlib.crc32('user-8') % 3}/")
    expect(server.log).not_to include('scheduled_messages.invalid')
  end

  it 'writes its own schedules in Karafka Pro’s format (whole seconds, not earlier than due)' do
    at = Time.now.to_f + 3600.25
    ScheduledJob.schedules_topic = schedules
    job_for(topic, ScheduledJob, 'later', at).enqueue(wait_until: Time.at(at))
    expect(Karafka.producer.flush(10_000)).to be(true)

    partition = (0...2).find { |p| Karafka::Admin.watermark_offsets(schedules, p).last.positive? }
    message = Karafka::Admin.read_topic(schedules, partition, 1).first
    headers = field(message, :headers)
    expect(headers).to include('schedule_schema_version' => '1.0.0', 'schedule_source_type' => 'schedule',
                               'schedule_target_topic' => topic, 'schedule_target_epoch' => at.ceil.to_s)
    expect(field(message, :key)).to start_with("#{topic}-")
  end
end
