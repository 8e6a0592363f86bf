# frozen_string_literal: true

require 'spec_helper'

# What happens when jobs fail: back-off and retry, the dead letter queue, Active Job's own
# retry_on/discard_on, and errors that must stop the process instead.
RSpec.describe 'Failing jobs' do
  after { @server&.ensure_stopped }

  it 'retries a failing job with back-off until it succeeds, holding back later jobs of its partition' do
    start_scenario(pause_timeout: 200)
    enqueue(FlakyJob, 'flaky', 2)
    enqueue(RecordingJob, 'after-flaky')

    wait_until(message: -> { "the retried job and its successor; log:\n#{@server.log}" }) { records_of('after-flaky').any? }
    attempts = records_of('flaky')
    expect(attempts.map { |r| r['ok'] }).to eq([false, false, true])
    expect(attempts[1]['at'] - attempts[0]['at']).to be >= 0.2 # the first pause
    expect(attempts[2]['at'] - attempts[1]['at']).to be >= 0.4 # doubled
    expect(records_of('after-flaky').first['started']).to be >= attempts.last['at']
    expect(@server.log).to include('Pausing partition', 'FixtureError')
  end

  it 'keeps other partitions running while one partition retries' do
    start_scenario(partitions: 2, pause_timeout: 10_000)
    enqueue(FailingJob, 'stuck', partition: 0)
    wait_until(message: 'the first failure') { records_of('stuck').any? }
    enqueue(RecordingJob, 'free', partition: 1)

    wait_until(message: 'the other partition to run its job') { records_of('free').any? }
    expect(records_of('stuck').size).to eq(1), 'still in its 10 s back-off'
  end

  context 'with a dead letter queue' do
    it 'dispatches the job after max_retries with its origin and error in headers, then runs the next job' do
      @dlq_retries = 2
      start_scenario(dlq: :topic)
      failed = enqueue(FailingJob, 'doomed')
      enqueue(RecordingJob, 'next-one')

      wait_until(message: -> { "the next job; log:\n#{@server.log}" }) { records_of('next-one').any? }
      expect(records_of('doomed').size).to eq(3) # first run + 2 retries
      dead = dead_letters(1)
      expect(dead.size).to eq(1)
      expect(JSON.parse(dead.first[:payload])).to include('job_class' => 'FailingJob', 'job_id' => failed.job_id)
      expect(dead.first[:headers]).to include(
        'source_topic' => @topic, 'source_partition' => '0', 'source_offset' => '0',
        'source_consumer_group' => @group, 'source_attempts' => '3',
        'source_error_class' => 'FixtureError', 'source_error_message' => 'doomed always fails'
      )
      wait_until(message: 'both offsets committed') { committed_total(@group, @topic) == 2 }
    end

    it 'gives each job its own retry budget when independent' do
      @dlq_retries = 1
      @dlq_independent = true
      start_scenario(dlq: :topic)
      enqueue(FlakyJob, 'first', 1)
      enqueue(FlakyJob, 'second', 1)

      wait_until(message: 'both jobs to succeed') { records_of('second').any? { |r| r['ok'] } }
      expect(records_of('first').map { |r| r['ok'] }).to eq([false, true])
      expect(dead_letters(1, timeout_ms: 1_000)).to be_empty
    end

    it 'never dead-letters errors that stop the process (SystemExit), and does not commit that job' do
      @dlq_retries = 0
      start_scenario(dlq: :topic)
      enqueue(ExitingJob, 'exit')

      status = @server.wait(30)
      expect(status.exitstatus).to eq(1)
      expect(@server.log).to include('SystemExit')
      expect(dead_letters(1, timeout_ms: 1_000)).to be_empty
      expect(committed_total(@group, @topic)).to eq(0)
    end
  end

  context 'with bad input' do
    let(:bad_payloads) do
      missing_record = RecordingJob.new('x').serialize.merge('arguments' => [{ '_aj_globalid' => 'gid://karafka-rs-spec/VanishedRecord/1' }])
      {
        'not JSON' => 'this is not json {',
        'JSON that is not a job' => '{"hello":"world"}',
        'an unknown job class' => JSON.generate(RecordingJob.new('x').serialize.merge('job_class' => 'NoSuchJob')),
        'arguments that cannot be deserialized' => JSON.generate(missing_record),
        'non-UTF-8 bytes' => "{\"job_class\":\"\xff\xfe\"}".b,
        'an oversized payload' => 'x' * 900_000,
        'a Marshal dump' => Marshal.dump(RecordingJob.new('x').serialize)
      }
    end

    it 'dead-letters each with a clear error and keeps running the good jobs' do
      @dlq_retries = 0
      start_scenario(dlq: :topic)
      bad_payloads.each_value { |payload| produce_raw(payload) }
      enqueue(RecordingJob, 'good-after-bad')

      wait_until(message: -> { "the good job; log:\n#{@server.log[-3000..] || @server.log}" }) { records_of('good-after-bad').any? }
      dead = dead_letters(bad_payloads.size)
      expect(dead.map { |m| m[:payload].b }).to eq(bad_payloads.values.map(&:b))
      expect(dead.map { |m| m[:headers]['source_error_class'] }).to eq(
        %w[JSON::ParserError Karafka::Errors::InvalidJobPayloadError NameError ActiveJob::DeserializationError
           Karafka::Errors::InvalidJobPayloadError JSON::ParserError JSON::ParserError]
      )
      expect(@server.log).to include('consumer.consume.error')
    end

    it 'without a dead letter queue retries it with back-off and never stops the server' do
      start_scenario(partitions: 2, pause_timeout: 100)
      produce_raw('not json', partition: 0)
      enqueue(RecordingJob, 'other-partition', partition: 1)

      wait_until(message: 'the healthy partition') { records_of('other-partition').any? }
      wait_until(message: 'repeated retries') { @server.log.scan('JSON::ParserError').size >= 3 }
      expect(@server).to be_alive
    end
  end

  it 'reports enqueueing a job larger than the broker accepts as a clear error' do
    start_scenario
    huge = job_for(@topic, SyncRecordingJob, 'huge', 'x' * 2_000_000)
    expect { huge.enqueue }.to raise_error(Karafka::Errors::DeliveryError, /MessageSizeTooLarge|too large/i)
  end

  it "keeps Active Job's retry_on (wait: 0 re-enqueues through the adapter) and discard_on working" do
    start_scenario
    enqueue(RetryOnJob, 'retry-on')
    enqueue(DiscardOnJob, 'discard-on')
    enqueue(RecordingJob, 'after-discard')

    wait_until(message: 'the retry_on chain') { records_of('retry-on').size == 3 }
    wait_until(message: 'the job after discard_on') { records_of('after-discard').any? }
    expect(records_of('retry-on').map { |r| r['executions'] }).to eq([1, 2, 3])
    # Each retry is a new message: the job sees where that one is, not where the first was.
    ids = records_of('retry-on').map { |r| r['provider_job_id'] }
    expect(ids.uniq.size).to eq(3)
    expect(ids).to all(match(%r{\A#{@topic}/\d+/\d+\z}))
    expect(records_of('discard-on').size).to eq(1)
  end

  it 'restores CurrentAttributes from enqueue around perform and never leaks them to the next job' do
    start_scenario(concurrency: 1)
    SpecCurrent.set(user_id: 42) { enqueue(RecordingJob, 'with-current') }
    enqueue(RecordingJob, 'without-current')

    wait_until(message: 'both jobs') { records_of('without-current').any? }
    expect(records_of('with-current').first['current_user_id']).to eq(42)
    expect(records_of('without-current').first['current_user_id']).to be_nil
  end

  it 'shuts down promptly during a back-off pause without committing the failed job' do
    start_scenario(pause_timeout: 30_000)
    enqueue(FailingJob, 'pausing')
    wait_until(message: 'the first failure') { records_of('pausing').any? && @server.log.include?('Pausing partition') }

    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    expect(@server.stop('TERM').exitstatus).to eq(0)
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 15 # far below the 30 s pause
    expect(committed_total(@group, @topic)).to eq(0)
  end
end
