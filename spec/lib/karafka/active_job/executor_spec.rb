# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::ActiveJob::Executor do
  subject(:executor) { described_class.new(monitor) }

  let(:monitor) { Karafka::Instrumentation::Monitor.new }
  let(:seen) { [] }

  before do
    stub_const('PeekJob', Class.new(ActiveJob::Base) do
      def perform(fail)
        self.class.seen << SpecCurrent.user_id
        raise FixtureError, 'peek failed' if fail
      end
    end)
    log = seen
    PeekJob.define_singleton_method(:seen) { log }
  end

  def payload_for(fail, user_id)
    job = PeekJob.new(fail)
    SpecCurrent.set(user_id: user_id) { JSON.generate(Karafka::ActiveJob::CurrentAttributes.dump(job.serialize)) }
  end

  it 'restores persisted attributes around perform and resets them after success and failure' do
    expect(executor.call(payload_for(false, 7), 't', 0, 1, nil, nil, 0)).to be(Karafka::ActiveJob::Outcome::SUCCESS)
    expect(SpecCurrent.user_id).to be_nil

    expect(executor.call(payload_for(true, 8), 't', 0, 2, nil, nil, 0)).to eq(Karafka::ActiveJob::Outcome.failure('FixtureError', 'peek failed'))
    expect(SpecCurrent.user_id).to be_nil

    expect(executor.call(JSON.generate(PeekJob.new(false).serialize), 't', 0, 3, nil, nil, 0)).to be(Karafka::ActiveJob::Outcome::SUCCESS)
    expect(seen).to eq([7, 8, nil])
  end

  it 'reports failures as error.occurred with where the job came from' do
    events = []
    monitor.subscribe('error.occurred') { |event| events << event }
    executor.call(payload_for(true, nil), 'jobs', 2, 40, nil, nil, 0)

    expect(events.map { |e| [e[:type], e[:job_class], e[:topic], e[:partition], e[:offset]] })
      .to eq([['consumer.consume.error', 'PeekJob', 'jobs', 2, 40]])
  end

  it 'caps error messages so a dead letter stays within the broker limits' do
    expect(described_class.truncate('x' * 5_000).length).to be < 1_100
  end
end
