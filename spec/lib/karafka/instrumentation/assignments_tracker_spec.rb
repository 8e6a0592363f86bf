# frozen_string_literal: true

require 'spec_helper'

# The tracker behind Karafka::App.assignments, as the server's rebalances feed it.
RSpec.describe Karafka::Instrumentation::AssignmentsTracker do
  subject(:tracker) { described_class.new }

  it 'keeps what each group owns through incremental assignments and revocations, and counts generations' do
    tracker.assigned('billing', [['orders', 0], ['orders', 1]])
    tracker.assigned('audit', [['orders', 0]])
    tracker.revoked('billing', [['orders', 0]])
    tracker.assigned('billing', [['orders', 0]])

    owned = tracker.current.transform_keys { |topic| [topic.consumer_group.id, topic.name] }
    expect(owned).to eq(%w[billing orders] => [0, 1], %w[audit orders] => [0])
    expect(tracker.generation('orders', 0)).to eq(3) # billing twice, audit once
    expect(tracker.generation('orders', 7)).to eq(0)
    tracker.clear
    expect([tracker.current, tracker.generations[['orders', 1]]]).to eq([{}, 1]) # generations outlive a stop
  end
end
