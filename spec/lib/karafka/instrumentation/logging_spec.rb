# frozen_string_literal: true

require 'spec_helper'
require 'stringio'

RSpec.describe 'Instrumentation and logging' do
  let(:output) { StringIO.new }
  let(:logger) { Logger.new(output, level: Logger::DEBUG) }
  let(:monitor) { Karafka::Instrumentation::Monitor.new }

  around do |example|
    previous = Karafka::App.config.logger
    Karafka::App.config.logger = logger
    example.run
  ensure
    Karafka::App.config.logger = previous
  end

  it 'logs a line per job and per error, as subscribed in Karafka’s generated karafka.rb' do
    monitor.subscribe(Karafka::Instrumentation::LoggerListener.new(log_polling: true))
    monitor.instrument('worker.processed', { job_class: 'WelcomeJob', job_id: 'j-1', topic: 'default',
                                             partition: 2, offset: 41 }) { nil }
    monitor.instrument('error.occurred', { type: 'consumer.consume.error', error: KeyError.new('x' * 5_000),
                                           job_class: 'WelcomeJob', job_id: 'j-1', topic: 'default',
                                           partition: 2, offset: 41 })

    expect(output.string).to match(%r{\[j-1\] WelcomeJob performed \(default/2/41\) in \d+\.\d\d ms})
    error_line = output.string.lines.grep(/consume\.error/).first
    expect(error_line).to include('WelcomeJob [j-1] (default/2/41): KeyError')
    expect(error_line.length).to be < 1_300, 'error messages are capped'
  end

  it 'keeps WaterDrop’s producer logger listener line working' do
    monitor.subscribe(WaterDrop::Instrumentation::LoggerListener.new(logger, log_messages: false))
    monitor.instrument('messages.produced_async', { messages: [{ topic: 't', payload: 'x' }] }) { 1 }

    expect(output.string).to include('messages.produced_async: 1 message(s)')
  end

  it 'rejects subscriptions to events that do not exist' do
    expect { monitor.subscribe('job.performed') { nil } }
      .to raise_error(ArgumentError, /unknown instrumentation event 'job.performed'/)
  end
end
