# frozen_string_literal: true

require 'spec_helper'

# The opt-in job features' settings and options, without a broker.
RSpec.describe 'config.active_job and karafka_options(deadline:)' do
  after { configure_spec_app }

  def job_class(name, &block)
    klass = Class.new(ActiveJob::Base)
    stub_const(name, klass)
    klass.class_eval(&block) if block
    klass
  end

  it 'takes a deadline as seconds or a Duration and rejects anything else, naming class and key' do
    expect(job_class('DeadlineJob') { karafka_options(deadline: 30) }.karafka_options[:deadline]).to eq(30)
    expect(job_class('DurationJob') { karafka_options(deadline: ActiveSupport::Duration.build(5)) }.karafka_options[:deadline].to_f).to eq(5.0)
    %w[30].push(0, -1, nil).each do |bad|
      expect { job_class('BadDeadlineJob') { karafka_options(deadline: bad) } }
        .to raise_error(Karafka::Errors::InvalidConfigurationError,
                        /BadDeadlineJob karafka_options: deadline .* must be a positive number of seconds/)
    end
  end

  it 'finds a class deadline first, then the global default' do
    job_class('OwnDeadlineJob') { karafka_options(deadline: 2) }
    job_class('NoDeadlineJob')
    Karafka::App.config.active_job.deadline = 7
    Karafka::ActiveJob::Deadlines.reset!
    expect(Karafka::ActiveJob::Deadlines.for('OwnDeadlineJob')).to eq(2.0)
    expect(Karafka::ActiveJob::Deadlines.for('NoDeadlineJob')).to eq(7.0)
  ensure
    Karafka::App.config.active_job.deadline = nil
    Karafka::ActiveJob::Deadlines.reset!
  end

  it 'validates config.active_job at the end of setup, naming the setting' do
    expect do
      Karafka::App.setup do |config|
        config.kafka = { 'bootstrap.servers': SpecKafka.bootstrap }
        config.active_job.cancels_topic = ''
        config.active_job.cancels_interval = 0
        config.active_job.deadline = 'soon'
        config.active_job.traces = 'yes'
      end
    end.to raise_error(Karafka::Errors::InvalidConfigurationError,
                       /active_job.cancels_topic .*active_job.cancels_interval .*active_job.deadline .*active_job.traces/)
  end

  it 'declares the cancels topic for `karafka topics migrate`: one partition, compacted' do
    Karafka::App.config.active_job.cancels_topic = 'app_cancels'
    declaration = Karafka::Cli::Topics::Declarations.from(Karafka::App.routes).find { |d| d.name == 'app_cancels' }
    expect(declaration.partitions).to eq(1)
    expect(declaration.settings).to include('cleanup.policy' => 'compact,delete')
  end

  it 'refuses to cancel while cancelling is off' do
    expect { Karafka::ActiveJob.cancel('some-id') }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /config.active_job.cancels_topic/)
  end

  it 'takes the trace context from Trace.current at enqueue and none when there is none' do
    context = { 'traceparent' => '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
    expect(Karafka::ActiveJob::Trace.outgoing).to eq([])
    Karafka::ActiveJob::Trace.with(context) do
      expect(Karafka::ActiveJob::Trace.outgoing).to eq([['traceparent', context['traceparent']]])
    end
    expect(Karafka::ActiveJob::Trace.current).to be_nil
  end
end
