# frozen_string_literal: true

require 'spec_helper'
require 'karafka/testing/rspec/helpers'

# What a job becomes on Kafka. Karafka.producer is karafka-testing's buffer here (no broker);
# a `producer:` option gets a WaterDrop-like recorder.
RSpec.describe Karafka::ActiveJob::Dispatcher do
  include Karafka::Testing::RSpec::Helpers

  subject(:dispatcher) { described_class.new }

  # A WaterDrop-like producer (what a `producer:` option may return): records each call.
  let(:recorder) do
    Class.new do
      attr_reader :calls

      def initialize
        @calls = []
      end

      def produce_many_sync(messages)
        @calls << [:produce_many_sync, messages]
        messages.each_with_index.map { |m, i| Karafka::Producer::DeliveryReport.new(topic: m[:topic], partition: 0, offset: i) }
      end

      def produce_many_async(messages)
        @calls << [:produce_many_async, messages]
        messages.size
      end
    end.new
  end
  let(:topic) { "dispatch-#{SecureRandom.hex(4)}" }

  def job_class(name, &block)
    klass = Class.new(ActiveJob::Base) { def perform(*); end }
    stub_const(name, klass)
    klass.class_eval(&block) if block
    klass
  end

  def job(klass, *arguments)
    klass.new(*arguments).tap { |j| j.queue_name = topic }
  end

  # The fields of `serialize` that do not change from one call to the next (Rails 7.1+ stamps
  # `enqueued_at` on each call).
  def identity(payload)
    JSON.parse(payload).slice('job_class', 'job_id', 'queue_name', 'arguments')
  end

  it 'produces the job to its queue’s topic, asynchronously, with its serialized job as the payload and no key' do
    queued = job(job_class('PlainDispatchJob'), 42, 'receipt', { 'to' => 'a@example.com' })

    expect(dispatcher.dispatch(queued)).to eq(1)
    expect(karafka.produced_messages.size).to eq(1)
    message = karafka.produced_messages.first
    expect(message.keys).to contain_exactly(:topic, :payload)
    expect(message[:topic]).to eq(topic)
    expect(identity(message[:payload])).to eq(identity(JSON.generate(queued.serialize)))
    expect(identity(message[:payload])['arguments']).to eq([42, 'receipt', { 'to' => 'a@example.com', '_aj_symbol_keys' => [] }])
  end

  it 'places the job by its partitioner’s value, as karafka_options(partition_key_type:) says' do
    by_key = job_class('KeyedDispatchJob') { karafka_options(partitioner: ->(j) { j.arguments.first }) }
    by_partition_key = job_class('PartitionKeyedDispatchJob') do
      karafka_options(partitioner: ->(j) { j.arguments.first }, partition_key_type: :partition_key)
    end
    by_partition = job_class('PartitionedDispatchJob') do
      karafka_options(partitioner: ->(j) { j.arguments.first }, partition_key_type: :partition)
    end

    dispatcher.dispatch(job(by_key, 7))
    dispatcher.dispatch(job(by_partition_key, 'account-3'))
    dispatcher.dispatch(job(by_partition, 2))

    placed = karafka.produced_messages.map { |m| m.slice(:key, :partition_key, :partition) }
    expect(placed).to eq([{ key: '7' }, { partition_key: 'account-3' }, { partition: 2 }])
  end

  it 'refuses a partitioner value that is no partition number when partition_key_type is :partition' do
    klass = job_class('BadPartitionJob') { karafka_options(partitioner: ->(j) { j.arguments.first }, partition_key_type: :partition) }

    expect { dispatcher.dispatch(job(klass, -1)) }
      .to raise_error(Karafka::Errors::MessageInvalidError, /partition must be an Integer >= 0/)
    expect { dispatcher.dispatch(job(klass, 'first')) }.to raise_error(ArgumentError, /invalid value for Integer/)
    expect(karafka.produced_messages).to be_empty
  end

  it 'waits for the broker with dispatch_method: :produce_sync and keeps where the job went as provider_job_id' do
    klass = job_class('SyncDispatchJob') { karafka_options(dispatch_method: :produce_sync) }
    queued = job(klass, 1)

    report = dispatcher.dispatch(queued)

    expect(report).to eq(Karafka::Producer::DeliveryReport.new(topic: topic, partition: 0, offset: 0))
    expect(queued.provider_job_id).to eq("#{topic}/0/0")
  end

  it 'uses the producer karafka_options(producer:) returns for the job, not Karafka.producer' do
    producer = recorder
    klass = job_class('OwnProducerJob') { karafka_options(producer: ->(_job) { producer }) }

    dispatcher.dispatch(job(klass, 1))

    expect(producer.calls.map(&:first)).to eq([:produce_many_async])
    expect(producer.calls.first.last.map { |m| m[:topic] }).to eq([topic])
    expect(karafka.produced_messages).to be_empty
  end

  describe '#dispatch_many' do
    it 'makes one producer call per producer and dispatch_many_method, with every job built first' do
      producer = recorder
      sync = job_class('ManySyncJob') do
        karafka_options(producer: ->(_job) { producer }, dispatch_many_method: :produce_many_sync)
      end
      async = job_class('ManyAsyncJob') { karafka_options(producer: ->(_job) { producer }) }
      jobs = [job(sync, 1), job(async, 2), job(sync, 3), job(job_class('ManyDefaultJob'), 4)]

      expect(dispatcher.dispatch_many(jobs)).to eq(4)

      expect(producer.calls.map { |method, messages| [method, messages.map { |m| identity(m[:payload])['arguments'] }] })
        .to eq([[:produce_many_sync, [[1], [3]]], [:produce_many_async, [[2]]]])
      expect(karafka.produced_messages.map { |m| identity(m[:payload])['arguments'] }).to eq([[4]])
      expect(jobs.map(&:successfully_enqueued?)).to all(be(true)) if jobs.first.respond_to?(:successfully_enqueued?)
    end

    it 'sends nothing when one job of the batch cannot be dispatched' do
      partitioned = job_class('ManyPartitionedJob') do
        karafka_options(partitioner: ->(j) { j.arguments.first }, partition_key_type: :partition)
      end

      expect { dispatcher.dispatch_many([job(partitioned, 1), job(partitioned, -1)]) }
        .to raise_error(Karafka::Errors::MessageInvalidError)
      expect(karafka.produced_messages).to be_empty
    end
  end

  describe 'jobs for later' do
    let(:schedules) { "#{topic}-schedules" }

    it 'holds the job in its class’ schedules topic, its own message as payload and its place in the headers' do
      topic_of_schedules = schedules
      klass = job_class('LaterDispatchJob') do
        karafka_options(scheduled_messages_topic: topic_of_schedules, partitioner: ->(j) { "user-#{j.arguments.first}" })
      end
      queued = job(klass, 9)
      due = Time.now.to_f + 3600

      dispatcher.dispatch_at(queued, due)

      expect(karafka.produced_messages.size).to eq(1)
      held = karafka.produced_messages.first
      expect(held[:topic]).to eq(schedules)
      expect(identity(held[:payload])).to eq(identity(JSON.generate(queued.serialize)))
      expect(held[:headers]).to include('schedule_target_topic' => topic, 'schedule_target_key' => 'user-9',
                                        'schedule_target_epoch_ms' => (due * 1000).round.to_s)
    end

    it 'sends a batch’s future jobs through their schedules topic and the others straight to their topic' do
      topic_of_schedules = schedules
      klass = job_class('ManyLaterJob') { karafka_options(scheduled_messages_topic: topic_of_schedules) }
      later = job(klass, 'later')
      later.scheduled_at = ActiveJob.gem_version >= Gem::Version.new('7.1') ? Time.now + 3600 : Time.now.to_f + 3600

      dispatcher.dispatch_many([job(klass, 'now'), later])

      expect(karafka.produced_messages.map { |m| [m[:topic], identity(m[:payload])['arguments']] })
        .to eq([[topic, ['now']], [schedules, ['later']]])
    end

    it 'raises SchedulingNotConfiguredError naming the job class and the option when it has no schedules topic' do
      expect { dispatcher.dispatch_at(job(job_class('UnscheduledJob'), 1), Time.now.to_f + 60) }
        .to raise_error(Karafka::Errors::SchedulingNotConfiguredError,
                        /UnscheduledJob was enqueued for .* needs karafka_options\(scheduled_messages_topic: \.\.\.\)/)
      expect(karafka.produced_messages).to be_empty
    end
  end
end
