# frozen_string_literal: true

require 'spec_helper'

# `config.internal.*` as Karafka's integration scenarios set and read it.
RSpec.describe Karafka::Setup::InternalConfig do
  subject(:internal) { described_class.new }

  it 'resets the process status so the server can run again' do
    Karafka::App.state = :stopped
    expect(internal.status).to be_stopped
    internal.status.reset!
    expect(Karafka::App.state).to eq(:initializing)
    expect(internal.status).to be_initializing
  end

  it 'takes a fresh connection manager and a reset backoff, and refuses what it cannot honour' do
    internal.connection.manager = internal.connection.manager.class.new
    internal.connection.reset_backoff = 1_000
    expect(internal.connection.reset_backoff).to eq(1_000)
    expect { internal.connection.manager = Object.new }
      .to raise_error(Karafka::Errors::UnsupportedFeatureError, /connection.manager cannot be replaced/)
    expect { internal.connection.reset_backoff = 0 }.to raise_error(Karafka::Errors::InvalidConfigurationError)
    expect { internal.connection.proxy }.to raise_error(Karafka::Errors::UnsupportedFeatureError, /connection.proxy/)
  end
end
