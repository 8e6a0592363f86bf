# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::RecurringTasks::State do
  subject(:state) { described_class.new }

  let(:task) { Struct.new(:id, :enabled_by_default?).new('cleanup', true) }

  def apply(offset, key, record)
    state.apply(offset, key, record && JSON.generate(record))
  end

  it "keeps the current owner's task records and ignores a deposed owner's" do
    apply(0, 'owner', { token: 'a', version: '1' })
    apply(1, 'task:cleanup', { token: 'a', tick: 100, status: 'done' })
    apply(2, 'owner', { token: 'b', version: '2' })
    # a, not knowing yet it lost the topic, writes its intent for the next tick: ignored
    apply(3, 'task:cleanup', { token: 'a', tick: 101, status: 'firing' })
    expect(state.owner).to eq('b')
    expect(state.version).to eq('2')
    expect(state.fired('cleanup')['tick']).to eq(100)
    apply(4, 'task:cleanup', { token: 'b', tick: 101, status: 'firing' })
    expect(state.fired('cleanup')).to include('tick' => 101, 'status' => 'firing')
  end

  it 'keeps task records written before the surviving owner record once compaction removed older ones' do
    apply(5, 'task:cleanup', { token: 'a', tick: 100, status: 'done' })
    apply(9, 'owner', { token: 'b' })
    expect(state.fired('cleanup')['tick']).to eq(100)
    expect(state.next_offset).to eq(10)
  end

  it 'applies each offset once, in order' do
    apply(0, 'owner', { token: 'a' })
    apply(1, 'task:cleanup', { token: 'a', tick: 200 })
    apply(1, 'task:cleanup', { token: 'a', tick: 100 })
    expect(state.fired('cleanup')['tick']).to eq(200)
  end

  it 'follows enable / disable commands over the default, with the time of the last enable' do
    expect(state.enabled?(task)).to be(true)
    apply(0, 'enabled:cleanup', { enabled: false, at: 10.5 })
    expect(state.enabled?(task)).to be(false)
    expect(state.enabled_at('cleanup')).to be_nil
    apply(1, 'enabled:cleanup', { enabled: true, at: 20.5 })
    expect(state.enabled?(task)).to be(true)
    expect(state.enabled_at('cleanup')).to eq(Time.at(20.5))
  end

  it 'has a trigger pending until a task record handles its offset' do
    apply(0, 'owner', { token: 'a' })
    apply(3, 'trigger:cleanup', { at: 1.0 })
    expect(state.pending_trigger('cleanup')).to eq(3)
    apply(4, 'task:cleanup', { token: 'a', tick: 100, trigger_offset: 3, status: 'firing' })
    expect(state.pending_trigger('cleanup')).to be_nil
    apply(5, 'trigger:cleanup', { at: 2.0 })
    expect(state.pending_trigger('cleanup')).to eq(5)
  end

  it 'ignores records that are not JSON and forgets a task on a tombstone' do
    apply(0, 'owner', { token: 'a' })
    apply(1, 'task:cleanup', { token: 'a', tick: 1 })
    state.apply(2, 'task:cleanup', 'not json')
    expect(state.fired('cleanup')['tick']).to eq(1)
    state.apply(3, 'task:cleanup', nil)
    expect(state.fired('cleanup')).to be_nil
  end
end
