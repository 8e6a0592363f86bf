# frozen_string_literal: true

require 'spec_helper'

# A worker that finishes a job takes the next one itself and wakes no other: only one thread
# runs Ruby at a time (core/consume/engine/nudger.rs). Another worker is woken when the
# running job leaves Ruby unused, or keeps it for long; these are what that must never lose.
RSpec.describe 'The worker pool' do
  # Opened once by one job, waited for by another (Queue#pop(timeout:) needs Ruby 3.2).
  let(:latch_class) do
    Class.new do
      attr_reader :open

      def initialize
        @mutex = Mutex.new
        @opened = ConditionVariable.new
        @open = false
      end

      def open!
        @mutex.synchronize do
          @open = true
          @opened.broadcast
        end
      end

      def wait(seconds)
        deadline = Karafka::Clock.monotonic + seconds
        @mutex.synchronize do
          until @open || (left = deadline - Karafka::Clock.monotonic) <= 0
            @opened.wait(@mutex, left)
          end
        end
        @open
      end
    end
  end
  let(:topic) { create_topic('pool', partitions: 2) }
  let(:engine) do
    kafka = Karafka::App.config.kafka.merge('group.id': unique_group).map { |k, v| [k.to_s, v.to_s] }
    Karafka::Native::Engine.new(
      Karafka::Native::EngineSettings.new(kafka: kafka, topics: [topic], max_messages: 10, max_wait_ms: 100,
                                          pause_timeout_ms: 1_000, pause_max_timeout_ms: 1_000,
                                          exponential_backoff: false, dead_letters: [], schedule_topics: [],
                                          virtual_partitions: [], reset_backoff_ms: 1_000)
    )
  end
  let(:executor) { Karafka::ActiveJob::Executor.new(Karafka::Instrumentation::Monitor.new) }
  let(:started) { latch_class.new }
  let(:other_ran) { latch_class.new }

  before do
    other = other_ran
    stub_const('OtherJob', Class.new(ActiveJob::Base) { define_method(:perform) { other.open! } })
  end

  def enqueue(klass, partition)
    Karafka.producer.produce_sync(topic: topic, payload: JSON.generate(klass.new.serialize), partition: partition)
  end

  # Runs the engine with two workers until the block returns, then stops it.
  def with_two_workers
    listener = Thread.new { loop { break if engine._run_loop == :stopped } }
    workers = Array.new(2) { Thread.new { engine._work(executor) } }
    yield
  ensure
    engine._stop
    workers&.each { |worker| worker.join(10) }
    listener&.join(10)
    engine._close
  end

  it 'runs another partition’s job while the running one waits for I/O' do
    result = Queue.new
    latch = started
    other = other_ran
    stub_const('WaitingJob', Class.new(ActiveJob::Base) do
      define_method(:perform) do
        latch.open!
        result << (other.wait(20) ? :saw_the_other_job : :waited_in_vain)
      end
    end)

    with_two_workers do
      enqueue(WaitingJob, 0)
      expect(started.wait(30)).to be(true)
      enqueue(OtherJob, 1)

      expect(result.pop).to eq(:saw_the_other_job)
    end
  end

  it 'tells Karafka::Web what each worker runs now and how many jobs it finished' do
    latch = started
    other = other_ran
    stub_const('WaitingJob', Class.new(ActiveJob::Base) do
      define_method(:perform) do
        latch.open!
        other.wait(20)
      end
    end)
    waiting = WaitingJob.new

    with_two_workers do
      Karafka.producer.produce_sync(topic: topic, payload: JSON.generate(waiting.serialize), partition: 1)
      expect(started.wait(30)).to be(true)
      running = engine._running
      other_ran.open!
      wait_until(message: 'the job to be counted') { engine._processed == 1 }

      expect(running.map { |payload, *location, _started_at| [JSON.parse(payload)['job_id'], *location] })
        .to eq([[waiting.job_id, topic, 1, 0]])
      expect(running.first.last).to be_within(60).of(Time.now.to_f)
      expect(engine._running).to eq([])
    end
  end

  it 'runs another partition’s job while the running one computes for long (Ruby’s time slices share the GVL)' do
    result = Queue.new
    latch = started
    other = other_ran
    stub_const('ComputingJob', Class.new(ActiveJob::Base) do
      define_method(:perform) do
        latch.open!
        # Never gives up the GVL of its own accord: no I/O, no sleep, no lock.
        deadline = Karafka::Clock.monotonic + 20
        Math.sqrt(rand) until other.open || Karafka::Clock.monotonic > deadline
        result << (other.open ? :saw_the_other_job : :computed_alone)
      end
    end)

    with_two_workers do
      enqueue(ComputingJob, 0)
      expect(started.wait(30)).to be(true)
      enqueue(OtherJob, 1)

      expect(result.pop).to eq(:saw_the_other_job)
    end
  end
end
