# frozen_string_literal: true

require 'spec_helper'

# Karafka's class-level server API, as Karafka's own integration scenarios drive it.
RSpec.describe Karafka::Server do
  describe '.execution_mode' do
    subject(:mode) { Karafka::Server::ExecutionMode.new }

    it 'is standalone until told otherwise, and compares with Symbols' do
      expect(mode).to be_standalone
      mode.supervisor!
      expect(mode).to be_supervisor
      expect(mode).to eq(:supervisor)
      expect(mode.to_s).to eq('supervisor')
      mode.swarm!
      expect(mode).to be_swarm
    end

    it 'refuses the embedded mode with what to run instead' do
      expect { mode.embedded! }.to raise_error(Karafka::Errors::UnsupportedFeatureError, /karafka server/)
    end
  end

  describe '.stop before .run' do
    it 'makes the next run return at once, and the run after that starts afresh' do
      described_class.stop
      expect(described_class.run).to be(true) # returned without building an engine
      expect(described_class.send(:stop_requests)).to be_empty
    end
  end

  describe Karafka::Server::ListenerState do
    it 'goes pending -> running -> stopped and back to pending when reset' do
      state = described_class.new('group')
      expect(state).to be_pending
      state.running!
      expect(state).to be_active
      state.stopped!
      state.pending!
      expect(state).to be_pending
    end
  end
end
