# frozen_string_literal: true

require 'spec_helper'

# Karafka's per-job and per-batch events, read the way Karafka's own Datadog and AppSignal
# listeners read them (karafka/karafka lib/karafka/instrumentation/vendors): a listener
# written for Karafka must find every reader it calls.
RSpec.describe Karafka::ActiveJob::Executor, 'instrumentation' do
  subject(:executor) { described_class.new(monitor) }

  let(:monitor) { Karafka::Instrumentation::Monitor.new }

  # What a Datadog / AppSignal-style listener extracts from each event it handles.
  let(:vendor_listener) do
    Class.new do
      attr_reader :seen

      def initialize
        @seen = []
      end

      def on_consumer_consume(event)
        consumer = event.payload[:caller]
        @seen << [:consume, "#{consumer.class}#consume", consumer.is_a?(Karafka::BaseConsumer), consumer.messages.size,
                  consumer.messages.metadata.first_offset, consumer.messages.metadata.last_offset,
                  consumer.topic.consumer_group.id, consumer.topic.name, consumer.partition,
                  consumer.coordinator.pause_tracker.attempt]
      end

      def on_active_job_consume(event)
        @seen << [:job_consume, event[:job]['job_class'], event[:message].offset, event[:message].raw_payload.class,
                  event[:caller].topic.name]
      end

      def on_active_job_consumed(event)
        @seen << [:job_consumed, event[:job]['arguments'], event[:time].class]
      end

      def on_consumer_consumed(event)
        consumer = event.payload[:caller]
        messages = consumer.messages
        metadata = messages.metadata
        @seen << [:consumed, messages.count, metadata.last_offset, metadata.processing_lag.class,
                  metadata.consumption_lag.class, event[:time].class,
                  "topic:#{metadata.topic}", "partition:#{metadata.partition}"]
      end

      def on_error_occurred(event)
        consumer = event.payload[:caller]
        tags = consumer.respond_to?(:messages) ? ["topic:#{consumer.messages.metadata.topic}", consumer.topic.consumer_group.id] : []
        @seen << [:error, event[:type], tags]
      end
    end.new
  end

  before do
    stub_const('TracedJob', Class.new(ActiveJob::Base) do
      def perform(value)
        raise FixtureError, 'traced failure' if value == 'fail'
      end
    end)
  end

  def payload(value)
    JSON.generate(TracedJob.new(value).serialize)
  end

  it 'publishes consumer.consume, active_job.consume, active_job.consumed, consumer.consumed per job, ' \
     'with Karafka’s payload readers' do
    monitor.subscribe(vendor_listener)
    expect(executor.call(payload('ok'), 'jobs', 2, 40, 'k', { 'h' => 'v' }, 0, 1_700_000_000_000)).to be(Karafka::ActiveJob::Outcome::SUCCESS)

    group = Karafka::App.config.consumer_group_id
    expect(vendor_listener.seen).to eq(
      [[:consume, 'Karafka::ActiveJob::Consumer#consume', true, 1, 40, 40, group, 'jobs', 2, 1],
       [:job_consume, 'TracedJob', 40, String, 'jobs'],
       [:job_consumed, ['ok'], Float],
       [:consumed, 1, 40, Integer, Integer, Float, 'topic:jobs', 'partition:2']]
    )
  end

  it 'reports a failing job as error.occurred with the consumer as caller, and no consumed events' do
    monitor.subscribe(vendor_listener)
    expect(executor.call(payload('fail'), 'jobs', 1, 7, nil, nil, 2)).to eq(Karafka::ActiveJob::Outcome.failure('FixtureError', 'traced failure'))

    expect(vendor_listener.seen.map(&:first)).to eq(%i[consume job_consume error])
    expect(vendor_listener.seen.last).to eq([:error, 'consumer.consume.error', ['topic:jobs', Karafka::App.config.consumer_group_id]])
  end

  # Karafka's docs (Error Handling, "Finding the Failing Message"), as written there.
  it 'gives consumer.consume.error the seek_offset that finds the failing message in caller.messages' do
    found = []
    monitor.subscribe 'error.occurred' do |event|
      next unless event[:type] == 'consumer.consume.error'

      messages = event[:caller].messages
      seek_offset = event[:seek_offset]
      failing_message = messages.find { |message| message.offset == seek_offset }
      found << [failing_message.offset, failing_message.raw_payload]
    end
    failing = payload('fail')
    executor.call(failing, 'jobs', 0, 12, nil, nil, 0)

    expect(found).to eq([[12, failing]])
  end

  it 'reports the job’s time since it was produced as the consumption lag' do
    lags = []
    monitor.subscribe('consumer.consumed') { |event| lags << event[:caller].messages.metadata.consumption_lag }
    produced_ms = ((Time.now.to_f - 3) * 1000).round
    executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0, produced_ms)

    expect(lags.first).to be_between(2_900, 10_000)
  end

  it 'gives worker.processed the jobs_queue statistics Karafka’s Datadog listener gauges' do
    stats = []
    during = []
    monitor.subscribe('worker.processed') { |event| stats << event[:jobs_queue].statistics }
    monitor.subscribe('active_job.consume') { |_event| during << executor.instance_variable_get(:@jobs_queue).statistics }
    executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0)
    executor.call(payload('fail'), 'jobs', 0, 2, nil, nil, 0)

    expect(during).to eq([{ busy: 1, enqueued: 0 }] * 2)
    expect(stats).to eq([{ busy: 0, enqueued: 0 }]) # a failed job publishes error.occurred instead
    expect(executor.instance_variable_get(:@jobs_queue).busy).to eq(0)
  end

  # Karafka's docs release replica database connections on worker.completed.
  describe 'worker.process and worker.completed' do
    plain_path

    it 'brackets every job, failed ones too, with worker.processed between them, even beside a quiet logger' do
      monitor.subscribe(Karafka::Instrumentation::LoggerListener.new) # below INFO: the plain path otherwise
      level = Karafka.logger.level
      Karafka.logger.level = Logger::WARN
      events = []
      %w[worker.process worker.processed worker.completed].each do |name|
        monitor.subscribe(name) { |event| events << [name, event[:job_class], event[:offset]] }
      end
      executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0)
      executor.call(payload('fail'), 'jobs', 0, 2, nil, nil, 0)

      expect(events).to eq([['worker.process', 'TracedJob', 1], ['worker.processed', 'TracedJob', 1],
                            ['worker.completed', 'TracedJob', 1],
                            ['worker.process', 'TracedJob', 2], ['worker.completed', 'TracedJob', 2]])
    ensure
      Karafka.logger.level = level
    end
  end

  it 'gives dead_letter_queue.dispatched and consumer.consuming.pause a caller (AppSignal tags DLQ counts with it)' do
    tags = []
    monitor.subscribe('dead_letter_queue.dispatched') do |event|
      consumer = event[:caller]
      tags << [consumer.topic.name, consumer.topic.consumer_group.id, consumer.partition, event[:message].offset]
    end
    monitor.subscribe('consumer.consuming.pause') { |event| tags << [event[:caller].partition, event[:caller].coordinator.pause_tracker.attempt] }
    executor.paused('jobs', 3, 9, 1, 1_000)
    executor.dead_lettered('jobs', 3, 9, 'jobs-dlq', 4, nil)

    expect(tags).to eq([[3, 1], ['jobs', Karafka::App.config.consumer_group_id, 3, 9]])
  end

  it 'starts publishing when a listener subscribes after the executor was built (block form too)' do
    executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0)
    offsets = []
    monitor.subscribe('active_job.consumed') { |event| offsets << event[:message].offset }
    executor.call(payload('ok'), 'jobs', 0, 2, nil, nil, 0)

    expect(offsets).to eq([2])
  end

  # The job path skips worker.processed while its only listener would not act on it (the
  # logger listener below INFO); these are what that must never change.
  context 'with the logger listener Karafka’s karafka.rb subscribes, and no persisted attributes' do
    plain_path

    let(:output) { StringIO.new }
    let(:logger) { Logger.new(output, level: Logger::WARN) }

    around do |example|
      previous = Karafka::App.config.logger
      Karafka::App.config.logger = logger
      example.run
    ensure
      Karafka::App.config.logger = previous
    end

    before { monitor.subscribe(Karafka::Instrumentation::LoggerListener.new) }

    it 'logs each job once the logger is lowered to INFO at runtime, and stops again above it' do
      executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0)
      logger.level = Logger::INFO
      executor.call(payload('ok'), 'jobs', 0, 2, nil, nil, 0)
      logger.level = Logger::WARN
      executor.call(payload('ok'), 'jobs', 0, 3, nil, nil, 0)

      expect(output.string.lines.grep(/TracedJob performed/).map { |line| line[%r{jobs/0/\d+}] }).to eq(['jobs/0/2'])
    end

    it 'logs to a logger at INFO assigned to config.logger at runtime, from the next job on' do
      executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0)
      replacement = StringIO.new
      Karafka::App.config.logger = Logger.new(replacement, level: Logger::INFO)
      executor.call(payload('ok'), 'jobs', 0, 2, nil, nil, 0)

      expect(replacement.string.lines.grep(/TracedJob performed/).map { |line| line[%r{jobs/0/\d+}] }).to eq(['jobs/0/2'])
      expect(output.string).not_to include('performed')
    end

    it 'logs to the default logger (INFO, on $stdout) of an app reset without one, from the next job on' do
      executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0)
      Karafka::App.reset!
      stdout = StringIO.new
      original = $stdout
      begin
        $stdout = stdout # Karafka.logger's default is built on the next job, writing here
        executor.call(payload('ok'), 'jobs', 0, 2, nil, nil, 0)
      ensure
        $stdout = original
      end

      expect(stdout.string.lines.grep(/TracedJob performed/).map { |line| line[%r{jobs/0/\d+}] }).to eq(['jobs/0/2'])
      expect(output.string).not_to include('performed')
    ensure
      configure_spec_app
    end

    it 'asks every quiet listener once a second one subscribes: the job is observed when either would act' do
      stub_const('QuietUntilAsked', Class.new do
        attr_accessor :listening
        attr_reader :heard

        def silent_on?(_event_name) = !listening
        def on_worker_processed(event) = (@heard ||= []) << event[:offset]
      end)
      executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0) # the logger listener alone, asked alone
      second = QuietUntilAsked.new
      monitor.subscribe(second)
      executor.call(payload('ok'), 'jobs', 0, 2, nil, nil, 0)
      second.listening = true
      executor.call(payload('ok'), 'jobs', 0, 3, nil, nil, 0)

      expect(second.heard).to eq([3])
      expect(output.string).not_to include('performed')
    end

    it 'publishes worker.processed to a block subscribed beside it, with the job’s time' do
      executor.call(payload('ok'), 'jobs', 0, 1, nil, nil, 0)
      seen = []
      monitor.subscribe('worker.processed') { |event| seen << [event[:offset], event[:job_class], event[:time].class] }
      executor.call(payload('ok'), 'jobs', 0, 2, nil, nil, 0)

      expect(seen).to eq([[2, 'TracedJob', Float]])
    end

    it 'still runs the job with its provider_job_id and reports its failure' do
      ids = []
      stub_const('IdJob', Class.new(ActiveJob::Base) { define_method(:perform) { ids << provider_job_id } })
      errors = []
      monitor.subscribe('error.occurred') { |event| errors << [event[:job_class], event[:offset]] }

      expect(executor.call(JSON.generate(IdJob.new.serialize), 'jobs', 4, 8, nil, nil, 0)).to be(Karafka::ActiveJob::Outcome::SUCCESS)
      expect(executor.call(payload('fail'), 'jobs', 4, 9, nil, nil, 0)).to eq(Karafka::ActiveJob::Outcome.failure('FixtureError', 'traced failure'))
      expect(ids).to eq(['jobs/4/8'])
      expect(errors).to eq([['TracedJob', 9]])
    end

    it 'restores current attributes from the next job on once they are persisted at runtime' do
      seen = []
      stub_const('UserJob', Class.new(ActiveJob::Base) { define_method(:perform) { seen << SpecCurrent.user_id } })
      stored = ActiveJob::Arguments.serialize([{ user_id: 5 }]).first # as CurrentAttributes.dump stores it
      payload = JSON.generate(UserJob.new.serialize.merge('cattr_0' => stored))
      executor.call(payload, 'jobs', 0, 1, nil, nil, 0)
      Karafka::ActiveJob::CurrentAttributes.persist('SpecCurrent')
      executor.call(payload, 'jobs', 0, 2, nil, nil, 0)

      expect(seen).to eq([nil, 5])
    end
  end
end
