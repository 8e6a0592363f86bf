# frozen_string_literal: true

require 'spec_helper'

# perform_all_later at scale: one producer call per (dispatch method, producer) group.
RSpec.describe 'Bulk enqueue' do
  let(:topic) { create_topic('bulk', partitions: 3) }
  let(:produced) { Hash.new { |h, k| h[k] = [] } }

  before do
    %w[messages.produced_async messages.produced_sync].each do |name|
      Karafka.producer.monitor.subscribe(name) { |event| produced[name] << event[:messages].size }
    end
  end

  it 'enqueues 100,000 jobs with one call per dispatch method and lands every one of them' do
    async_jobs = Array.new(90_000) { |i| job_for(topic, RecordingJob, "a#{i}") }
    sync_jobs = Array.new(10_000) { |i| job_for(topic, ManySyncRecordingJob, "s#{i}") }

    expect(ActiveJob::Base.queue_adapter.enqueue_all(async_jobs + sync_jobs)).to eq(100_000)
    expect(Karafka.producer.flush(60_000)).to be(true)

    expect(produced).to eq('messages.produced_async' => [90_000], 'messages.produced_sync' => [10_000])
    expect(topic_size(topic, 3)).to eq(100_000)
  end

  it 'spreads a batch of keyless jobs over the partitions (one partition would mean one worker)' do
    ActiveJob.perform_all_later(Array.new(300) { |i| job_for(topic, RecordingJob, "k#{i}") })
    expect(Karafka.producer.flush(10_000)).to be(true)

    shares = Array.new(3) { |partition| Karafka::Admin.watermark_offsets(topic, partition).last }
    expect(shares.sum).to eq(300)
    expect(shares).to all(be >= 50) # random per job: ~100 each
  end

  it "publishes each job's message in the produced event, as WaterDrop listeners expect" do
    stub_const('KeyedRecordingJob', Class.new(RecordingJob) { karafka_options(partitioner: ->(job) { job.arguments.first }) })
    messages = []
    Karafka.producer.monitor.subscribe('messages.produced_async') { |event| messages.concat(event[:messages]) }

    ActiveJob.perform_all_later(%w[u1 u2 u3].map { |id| job_for(topic, KeyedRecordingJob, id) })

    expect(messages.map { |m| [m[:topic], m[:key], JSON.parse(m[:payload])['arguments']] })
      .to eq([[topic, 'u1', ['u1']], [topic, 'u2', ['u2']], [topic, 'u3', ['u3']]])
  end

  it 'rejects a negative partition from a partitioner before producing anything' do
    stub_const('NegativePartitionJob', Class.new(RecordingJob) do
      karafka_options(partition_key_type: :partition, partitioner: ->(job) { job.arguments.first == 'bad' ? -1 : 0 })
    end)
    jobs = %w[ok bad].map { |id| job_for(topic, NegativePartitionJob, id) }

    expect { ActiveJob.perform_all_later(jobs) }.to raise_error(Karafka::Errors::MessageInvalidError, /partition/)
    expect(Karafka.producer.flush(10_000)).to be(true)
    expect(topic_size(topic, 3)).to eq(0)
  end

  it 'surfaces failed deliveries of a synchronous batch, naming how many failed' do
    stub_const('NoSuchPartitionJob', Class.new(RecordingJob) do
      karafka_options(dispatch_many_method: :produce_many_sync, partition_key_type: :partition,
                      partitioner: ->(job) { job.arguments.first.end_with?('bad') ? 99 : 0 })
    end)
    jobs = %w[ok-1 x-bad ok-2 y-bad].map { |id| job_for(topic, NoSuchPartitionJob, id) }

    expect { ActiveJob.perform_all_later(jobs) }
      .to raise_error(Karafka::Errors::DeliveryError, /2 of 4 message\(s\) failed/)
  end
end
