# frozen_string_literal: true

require 'spec_helper'

# `on_overdue: :dead_letter` against the real broker: a job that fails after running past its
# deadline goes to the dead letter queue at once; one that fails within it is retried as
# usual; one that succeeds past it is committed; a topic without a dead letter queue is refused
# at boot, or (found only at run time) retried as usual and reported once.
RSpec.describe 'Job deadlines with on_overdue: :dead_letter' do
  after { @server&.ensure_stopped }

  def start(dlq: :topic, env: {})
    @dlq_retries = 2
    start_scenario(dlq: dlq, env: { 'SPEC_FEATURE_EVENTS' => '1' }.merge(env))
  end

  def started(id)
    records.select { |r| r['kind'] == 'started' && r['id'] == id }
  end

  def kinds(kind)
    records.select { |r| r['kind'] == kind }
  end

  def log_tail
    "log:\n#{@server.log[-3000..] || @server.log}"
  end

  it 'dead-letters an overdue failing job after one attempt, while a failing job within its deadline keeps retrying' do
    start
    overdue = enqueue(OverdueDeadLetterJob, 'overdue', 'fail')
    prompt = enqueue(PromptDeadLetterJob, 'prompt', 'fail')
    enqueue(RecordingJob, 'next-one')

    wait_until(message: -> { "the job after both; #{log_tail}" }) { records_of('next-one').any? }
    expect(started('overdue').size).to eq(1)
    expect(started('prompt').size).to eq(3) # first run + 2 retries
    dead = dead_letters(2)
    expect(dead.map { |m| JSON.parse(m[:payload])['job_id'] }).to eq([overdue.job_id, prompt.job_id])
    expect(dead.first[:headers]).to include(
      'source_topic' => @topic, 'source_partition' => '0', 'source_offset' => '0',
      'source_consumer_group' => @group, 'source_attempts' => '1', 'source_error_class' => 'FixtureError',
      'source_error_message' => 'overdue fails after its deadline', 'deadline_exceeded' => '0.2'
    )
    expect(dead.last[:headers]).to include('source_offset' => '1', 'source_attempts' => '3')
    expect(dead.last[:headers]).not_to have_key('deadline_exceeded')
    # The usual events of a dead letter: the job's error, then the dispatch.
    errors = kinds('error').select { |r| r['job_id'] == overdue.job_id }
    expect(errors.map { |r| [r['type'], r['job_class']] }).to eq([['consumer.consume.error', 'OverdueDeadLetterJob']])
    expect(kinds('dead_lettered').map { |r| [r['offset'], r['attempts']] }).to eq([[0, 1], [1, 3]])
    wait_until(message: 'all three offsets committed') { committed_total(@group, @topic) == 3 }
  end

  it 'commits an overdue job that succeeds, and runs it once' do
    start
    job = enqueue(OverdueDeadLetterJob, 'late-but-fine', 'succeed')

    wait_until(message: -> { "its offset committed; #{log_tail}" }) { committed_total(@group, @topic) == 1 }
    expect(started('late-but-fine').size).to eq(1)
    expect(kinds('finished').map { |r| r['job_id'] }).to eq([job.job_id])
    expect(kinds('overdue').map { |r| r['job_id'] }).to eq([job.job_id]) # still reported
    expect(kinds('dead_lettered')).to be_empty
    expect(dead_letters(1, timeout_ms: 1_000)).to be_empty
  end

  it 'retries as usual and reports once when the topic found at run time has no dead letter queue' do
    start(dlq: nil)
    enqueue(OverdueDeadLetterJob, 'no-dlq', 'fail')

    wait_until(message: -> { "two attempts; #{log_tail}" }) { started('no-dlq').size >= 2 }
    fallbacks = kinds('error').select { |r| r['type'] == 'active_job.on_overdue.no_dead_letter_queue' }
    expect(fallbacks.size).to eq(1)
    expect(fallbacks.first['message']).to include('OverdueDeadLetterJob', @topic, 'dead_letter_queue')
    expect(@server).to be_alive
  end

  describe 'at boot' do
    def boot(env)
      start(dlq: nil, env: env)
      status = @server.wait(60)
      [status.exitstatus, @server.log]
    end

    it 'refuses a job class with on_overdue: :dead_letter whose topic has no dead_letter_queue' do
      code, log = boot('SPEC_OVERDUE_QUEUED' => '1')
      expect(code).to eq(1)
      expect(log).to include('InvalidConfigurationError', 'QueuedOverdueJob', "'#{@topic}'",
                             'karafka_options(on_overdue: :dead_letter)', 'no dead_letter_queue')
    end

    it 'refuses config.active_job.on_overdue = :dead_letter with a global deadline on a topic without one, ' \
       'and an unknown on_overdue' do
      code, log = boot('SPEC_DEADLINE' => '30', 'SPEC_ON_OVERDUE' => 'dead_letter')
      expect(code).to eq(1)
      expect(log).to include('config.active_job.on_overdue is :dead_letter', "'#{@topic}'", 'no dead_letter_queue')

      code, log = boot('SPEC_ON_OVERDUE' => 'kill')
      expect(code).to eq(1)
      expect(log).to include('active_job.on_overdue must be one of: :report, :dead_letter (got :kill)')
    end
  end
end
