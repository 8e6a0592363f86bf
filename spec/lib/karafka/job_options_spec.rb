# frozen_string_literal: true

require 'spec_helper'

RSpec.describe 'karafka_options' do
  def job_class(name, parent = ActiveJob::Base, &block)
    klass = Class.new(parent)
    stub_const(name, klass)
    klass.class_eval(&block) if block
    klass
  end

  it 'defaults to async dispatch' do
    expect(job_class('PlainJob').karafka_options).to eq(dispatch_method: :produce_async,
                                                        dispatch_many_method: :produce_many_async)
  end

  it 'merges per key with the parent: a subclass overrides only what it names' do
    parent = job_class('ParentJob') { karafka_options(dispatch_method: :produce_sync, dispatch_many_method: :produce_many_sync) }
    child = job_class('ChildJob', parent) { karafka_options(dispatch_method: :produce_async) }

    expect(child.karafka_options).to include(dispatch_method: :produce_async, dispatch_many_method: :produce_many_sync)
    expect(parent.karafka_options[:dispatch_method]).to eq(:produce_sync)
  end

  it 'raises at class definition for an unknown dispatch method, naming class, key and allowed values' do
    expect { job_class('BadDispatchJob') { karafka_options(dispatch_method: :produce_later) } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError,
                      /BadDispatchJob karafka_options: dispatch_method :produce_later must be one of: produce_async, produce_sync/)
  end

  it 'warns of an unknown key, naming class and key, and loads the class as Karafka does (which ignores it)' do
    log = StringIO.new
    allow(Karafka).to receive(:logger).and_return(Logger.new(log))
    typo = job_class('TypoJob') { karafka_options(dispatch_metod: :produce_sync, timeout: 8_000) }

    expect(log.string).to match(/WARN.*TypoJob karafka_options: :dispatch_metod, :timeout ignored: not a karafka_options key \(allowed: dispatch_method, /)
    expect(typo.karafka_options[:dispatch_method]).to eq(:produce_async)
  end

  it 'checks options through config.internal.active_job.job_options_contract, as Karafka does' do
    contract = Karafka::App.config.internal.active_job.job_options_contract
    expect(contract).to be_a(Karafka::ActiveJob::JobOptionsContract)
    expect(contract).to receive(:validate!).and_call_original
    job_class('CheckedJob') { karafka_options(dispatch_method: :produce_sync) }
  end

  it 'raises for a non-callable partitioner' do
    expect { job_class('PartJob') { karafka_options(partitioner: 'user_id') } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /PartJob karafka_options: partitioner must respond to #call/)
  end
end
