# frozen_string_literal: true

require 'spec_helper'

# on_overdue's settings, its boot check and the executor's outcome, without a broker.
RSpec.describe Karafka::ActiveJob::OnOverdue do
  let(:queue) { "overdue_unit_#{SecureRandom.hex(4)}" }

  after do
    configure_spec_app
    described_class.reset!
    Karafka::ActiveJob::Deadlines.reset!
  end

  def job_class(name, &block)
    klass = Class.new(ActiveJob::Base)
    stub_const(name, klass)
    klass.class_eval(&block) if block
    klass
  end

  def draw(dlq:)
    name = queue
    Karafka::App.routes.draw do
      active_job_topic(name) { dead_letter_queue(topic: "#{name}_dlq", max_retries: 3) if dlq }
    end
  end

  it 'takes :report or :dead_letter, in karafka_options and config.active_job, naming the setting otherwise' do
    expect(job_class('DlqOverdueJob') { karafka_options(on_overdue: :dead_letter) }.karafka_options[:on_overdue]).to eq(:dead_letter)
    expect { job_class('BadOverdueJob') { karafka_options(on_overdue: :kill) } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError,
                      /BadOverdueJob karafka_options: on_overdue :kill must be one of: report, dead_letter/)
    expect(Karafka::App.config.active_job.on_overdue).to eq(:report)
    expect { Karafka::App.setup { |config| config.active_job.on_overdue = 'dead_letter' } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError,
                      /active_job.on_overdue must be one of: :report, :dead_letter \(got "dead_letter"\)/)
  end

  it 'applies to job classes with a deadline: their own setting first, then the global one' do
    job_class('OwnOverdueJob') { karafka_options(deadline: 1, on_overdue: :dead_letter) }
    job_class('GlobalOverdueJob') { karafka_options(deadline: 1) }
    job_class('NoDeadlineOverdueJob') { karafka_options(on_overdue: :dead_letter) }
    expect(%w[OwnOverdueJob GlobalOverdueJob NoDeadlineOverdueJob].map { |name| described_class.dead_letter?(name) })
      .to eq([true, false, false])
    Karafka::App.config.active_job.on_overdue = :dead_letter
    described_class.reset!
    expect(described_class.dead_letter?('GlobalOverdueJob')).to be(true)
  end

  describe '.validate!' do
    it 'refuses a job class whose topic has no dead_letter_queue, naming the class, topic and setting' do
      name = queue
      job_class('RoutedOverdueJob') do
        queue_as name
        karafka_options(deadline: 1, on_overdue: :dead_letter)
      end
      draw(dlq: false)
      expect { described_class.validate!(Karafka::App.routes) }
        .to raise_error(Karafka::Errors::InvalidConfigurationError,
                        /RoutedOverdueJob has karafka_options\(on_overdue: :dead_letter\) but its topic '#{name}' has no dead_letter_queue/)
      Karafka::App.routes.clear
      draw(dlq: true)
      expect { described_class.validate!(Karafka::App.routes) }.not_to raise_error
    end

    it 'leaves job classes whose queue is known only at run time, or not consumed here, to the run-time check' do
      job_class('DynamicOverdueJob') do
        queue_as { 'anything' }
        karafka_options(deadline: 1, on_overdue: :dead_letter)
      end
      job_class('ElsewhereOverdueJob') do
        queue_as 'consumed_by_another_app'
        karafka_options(deadline: 1, on_overdue: :dead_letter)
      end
      draw(dlq: false)
      expect { described_class.validate!(Karafka::App.routes) }.not_to raise_error
    end

    it 'refuses the global setting with a global deadline on a topic without a dead_letter_queue' do
      Karafka::App.config.active_job.deadline = 30
      Karafka::App.config.active_job.on_overdue = :dead_letter
      draw(dlq: false)
      expect { described_class.validate!(Karafka::App.routes) }
        .to raise_error(Karafka::Errors::InvalidConfigurationError,
                        /config.active_job.on_overdue is :dead_letter .* but '#{queue}' has no dead_letter_queue/)
    end
  end

  describe 'the executor' do
    let(:monitor) { Karafka::Instrumentation::Monitor.new }
    let(:executor) { Karafka::ActiveJob::Executor.new(monitor) }

    before do
      # Fails once it has been reported overdue (the deadlines thread says so).
      job_class('LateFailingJob') do
        karafka_options(deadline: 0.05, on_overdue: :dead_letter)
        define_method(:perform) do
          sleep 0.005 until Karafka::ActiveJob::Deadlines.overdue.any? { |entry| entry.job_id == job_id }
          raise FixtureError, 'late and failed'
        end
      end
    end

    after { Karafka::ActiveJob::Deadlines.stop }

    def run_late_job
      executor.call(JSON.generate(LateFailingJob.new.serialize), queue, 0, 0, nil, nil, 0)
    end

    it 'adds the deadline to the outcome of an overdue failure on a topic with a dead_letter_queue' do
      draw(dlq: true)
      errors = []
      monitor.subscribe('error.occurred') { |event| errors << [event[:type], event[:error].class] }
      expect(run_late_job).to eq(Karafka::ActiveJob::Outcome.failure('FixtureError', 'late and failed', deadline_exceeded: '0.05'))
      expect(errors).to eq([['consumer.consume.error', FixtureError]])
    end

    it 'without one: the usual outcome (retried), reported once per class and topic' do
      draw(dlq: false)
      fallbacks = []
      monitor.subscribe('error.occurred') do |event|
        fallbacks << event[:error].message if event[:type] == described_class::FALLBACK_ERROR
      end
      2.times { expect(run_late_job).to eq(Karafka::ActiveJob::Outcome.failure('FixtureError', 'late and failed')) }
      expect(fallbacks).to eq(["LateFailingJob has on_overdue: :dead_letter but topic '#{queue}' has no " \
                               'dead_letter_queue: its overdue failures are retried as usual'])
    end
  end
end
