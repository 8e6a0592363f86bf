# frozen_string_literal: true

require 'spec_helper'

# Karafka Web UI's tagging API (Web-UI/Tagging.md), as its docs and Karafka's process_tagging
# scenario use it.
RSpec.describe Karafka::Core::Taggable::Tags do
  subject(:tags) { described_class.new }

  it 'adds, replaces and deletes tags by name, and lists their values' do
    tags.add(:commit_hash, '#4f0450221')
    tags.add('machine_type', '💪')
    tags.add(:commit_hash, '#5a1') # the same name replaces the value

    expect(tags.to_a).to eq(%w[#5a1 💪])
    expect(JSON.generate(tags)).to eq('["#5a1","💪"]')
    tags.delete(:machine_type)
    expect(tags.to_a).to eq(%w[#5a1])
  end

  it 'tags this process as Karafka::Process.tags, without hiding Ruby’s Process inside Karafka' do
    Karafka::Process.tags.add(:commit_hash, '#4f0450221')

    expect(Karafka::Process.tags.to_a).to eq(%w[#4f0450221])
    expect(Karafka::Clock.monotonic).to be_a(Float)
  ensure
    Karafka::Process.tags.clear
  end
end
