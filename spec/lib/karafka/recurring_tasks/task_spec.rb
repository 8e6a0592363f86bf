# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::RecurringTasks::Task, skip: FUGIT_MISSING do
  def task(cron, &block)
    described_class.new(id: 'report', cron: cron, &(block || proc {}))
  end

  it 'lists the ticks of a seconds cron in (after, up_to]' do
    ticks = task('* * * * * *').ticks_between(Time.at(1_000), Time.at(1_003))
    expect(ticks.map(&:to_i)).to eq([1_001, 1_002, 1_003])
  end

  it "reads fugit's natural schedules and time zones" do
    expect(task('every 5 minutes').next_tick(Time.utc(2026, 1, 1, 10, 2)).utc).to eq(Time.utc(2026, 1, 1, 10, 5))
    # 09:00 in Paris is 08:00 UTC in winter, 07:00 UTC in summer.
    paris = task('0 9 * * * Europe/Paris')
    expect(paris.next_tick(Time.utc(2026, 1, 1)).utc).to eq(Time.utc(2026, 1, 1, 8))
    expect(paris.next_tick(Time.utc(2026, 7, 1)).utc).to eq(Time.utc(2026, 7, 1, 7))
  end

  it 'passes the tick to a block that takes it' do
    seen = []
    task('* * * * *') { |tick| seen << tick }.execute(Time.at(60))
    task('* * * * *') { seen << :no_argument }.execute(Time.at(120))
    expect(seen).to eq([Time.at(60), :no_argument])
  end

  it 'refuses a schedule fugit cannot parse, an invalid id or a missing block, naming the task' do
    expect { task('every blue moon') }.to raise_error(Karafka::Errors::InvalidConfigurationError, /"report".*every blue moon/)
    expect { described_class.new(id: 'a b', cron: '* * * * *') { nil } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /"a b".*id must match/)
    expect { described_class.new(id: 'x', cron: '* * * * *') }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /"x".*needs a block/)
  end
end
