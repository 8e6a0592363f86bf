# frozen_string_literal: true

require 'spec_helper'

RSpec.describe ActiveJob::QueueAdapters::KarafkaAdapter do
  subject(:adapter) { described_class.new }

  it 'is what queue_adapter = :karafka resolves to' do
    expect(ActiveJob::Base.queue_adapter).to be_a(described_class)
  end

  it 'raises an error that `rescue NotImplementedError` catches (as Karafka apps do) for a future time ' \
     'without a schedules topic, naming the fix' do
    job = RecordingJob.new('later')
    rescued = begin
      adapter.enqueue_at(job, Time.now.to_f + 60)
      nil
    rescue NotImplementedError => e
      e
    end
    expect(rescued).to be_a(Karafka::Errors::SchedulingNotConfiguredError)
    expect(rescued.message).to match(/RecordingJob was enqueued for .* needs karafka_options\(scheduled_messages_topic: \.\.\.\)/)
  end

  it 'answers the adapter questions Rails asks' do
    expect(adapter.enqueue_after_transaction_commit?).to be(true)
    expect(adapter.stopping?).to be(false)
    expect(adapter.stopping?(RecordingJob.new)).to be(false)
  end
end
