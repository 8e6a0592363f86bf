# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::ActiveJob::Schedule do
  describe '.envelope' do
    let(:target) { { topic: 'orders', payload: '{"job_class":"OrderJob"}', key: 'user-7', headers: { 'trace' => 'abc' } } }

    it 'holds the job’s own message as payload, with Karafka Pro’s schedule headers naming where and when it goes' do
      envelope = described_class.envelope(target, 'orders_schedules', 1_700_000_000.2)

      expect(envelope[:topic]).to eq('orders_schedules')
      expect(envelope[:payload]).to eq(target[:payload])
      expect(envelope[:headers]).to eq(
        'trace' => 'abc',
        'schedule_schema_version' => '1.0.0',
        'schedule_source_type' => 'schedule',
        'schedule_target_topic' => 'orders',
        'schedule_target_epoch' => '1700000001', # rounded up: a reader of seconds is never early
        'schedule_target_epoch_ms' => '1700000000200',
        'schedule_target_key' => 'user-7'
      )
    end

    it 'carries a partition key or an explicit partition to the target message' do
      by_partition_key = described_class.envelope({ topic: 't', payload: 'x', partition_key: 'acct-1' }, 's', 10)
      by_partition = described_class.envelope({ topic: 't', payload: 'x', partition: 3 }, 's', 10)

      expect(by_partition_key[:headers]).to include('schedule_target_partition_key' => 'acct-1')
      expect(by_partition_key[:headers].keys).not_to include('schedule_target_key', 'schedule_target_partition')
      expect(by_partition[:headers]).to include('schedule_target_partition' => '3')
      expect(by_partition[:headers].keys).not_to include('schedule_target_key', 'schedule_target_partition_key')
    end

    it 'keys every schedule uniquely by its target topic, so its tombstone names only it' do
      keys = Array.new(3) { described_class.envelope(target, 'orders_schedules', 10)[:key] }

      expect(keys).to all(match(/\Aorders-\h{8}-\h{4}-\h{4}-\h{4}-\h{12}\z/))
      expect(keys.uniq.size).to eq(3)
    end
  end

  describe '.envelope_row' do
    it 'turns the job’s row into the schedule’s row, keeping the job’s own headers' do
      target = Karafka::Native::OutgoingMessage.new('orders', '{}', nil, 'acct-1', nil, [%w[traceparent 00-abc]])

      envelope = described_class.envelope_row(target, 'orders_schedules', 10)

      expect([envelope.topic, envelope.payload, envelope.partition_key, envelope.partition]).to eq(['orders_schedules', '{}', nil, nil])
      expect(envelope.key).to match(/\Aorders-\h{8}-/)
      expect(envelope.headers.to_h).to include('traceparent' => '00-abc', 'schedule_target_topic' => 'orders',
                                               'schedule_target_partition_key' => 'acct-1', 'schedule_target_epoch' => '10')
    end
  end

  describe '.future_time' do
    # Rails 6.1 keeps scheduled_at as epoch seconds, 7.1+ as a Time.
    def job_at(epoch)
      RecordingJob.new('x').tap do |job|
        job.scheduled_at = ActiveJob.gem_version >= Gem::Version.new('7.1') ? Time.at(epoch) : epoch
      end
    end

    it 'is the epoch seconds of a job scheduled in the future, else nil (the job goes straight to its topic)' do
      due = Time.now.to_f + 60

      expect(described_class.future_time(job_at(due))).to be_within(0.001).of(due)
      expect(described_class.future_time(job_at(Time.now.to_f - 1))).to be_nil
      expect(described_class.future_time(RecordingJob.new('x'))).to be_nil
    end
  end
end
