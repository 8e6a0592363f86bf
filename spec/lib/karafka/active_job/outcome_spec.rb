# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::ActiveJob::Outcome do
  it 'has one frozen success, so a successful job allocates no outcome' do
    expect(described_class::SUCCESS).to be_frozen
    expect([described_class::SUCCESS.success?, described_class::SUCCESS.failure?]).to eq([true, false])
  end

  it 'names a failure’s error class and message, frozen' do
    failure = described_class.failure('ArgumentError', 'bad')

    expect([failure.kind, failure.error_class, failure.error_message, failure.failure?]).to eq([:failure, 'ArgumentError', 'bad', true])
    expect(failure).to be_frozen
  end
end
