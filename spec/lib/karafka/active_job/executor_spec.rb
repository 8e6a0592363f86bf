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

  # The observed path (the suite persists attributes) and the plain one, each with its own check.
  [false, true].each do |plain|
    context(plain ? 'on the plain path' : 'on the observed path') do
      plain_path if plain

      it "tells Karafka::Web's tracker when a job that failed before succeeds: its location fails no more" do
        reports = []
        tracker = Karafka::Web::Tracker.new(on_error: ->(report) { reports << report })
        tracker.subscribe(monitor)
        executor = described_class.new(monitor, tracker: tracker)
        failing = JSON.generate(PeekJob.new(true).serialize)
        executor.call(failing, 'jobs', 3, 9, nil, nil, 0)
        executor.call(failing, 'jobs', 3, 9, nil, nil, 1)
        executor.call(JSON.generate(PeekJob.new(false).serialize), 'jobs', 3, 9, nil, nil, 2) # the retry succeeds
        executor.call(failing, 'jobs', 3, 9, nil, nil, 0) # the location failing anew (another job there after a reset)

        expect(reports.map { |report| report[:attempts] }).to eq([1, 2, 1])
      end

      # A job re-enqueued by retry_on (or enqueued again) serializes the provider_job_id of the
      # run before; like Sidekiq's jid, the job sees where it is stored now.
      it 'gives the job where its message is as provider_job_id, even when the payload names an earlier one' do
        ids = []
        stub_const('IdJob', Class.new(ActiveJob::Base) { define_method(:perform) { ids << provider_job_id } })
        executor.call(JSON.generate(IdJob.new.serialize), 'jobs', 1, 4, nil, nil, 0)
        again = IdJob.new.serialize.merge('provider_job_id' => 'jobs/1/4')
        executor.call(JSON.generate(again), 'jobs', 2, 17, nil, nil, 0)

        expect(ids).to eq(%w[jobs/1/4 jobs/2/17])
      end
    end
  end

  it 'never turns JSON additions (json_class) in a payload into Ruby objects' do
    stub_const('SpecAddition', Class.new { def self.json_create(_data) = new })
    addition = { 'json_class' => 'SpecAddition' }
    payload = JSON.generate(PeekJob.new(false).serialize.merge('arguments' => [addition]))
    expect(JSON.parse(payload, create_additions: true)['arguments'].first).to be_a(SpecAddition) # what it would be
    expect(executor.send(:parse, payload)['arguments']).to eq([addition])
  end

  it 'caps error messages so a dead letter stays within the broker limits' do
    expect(described_class.truncate('x' * 5_000).length).to be < 1_100
  end
end
