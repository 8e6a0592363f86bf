# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::RecurringTasks::Routing, skip: FUGIT_MISSING do
  after { configure_spec_app }

  def declarations
    Karafka::Cli::Topics::Declarations.from(Karafka::App.routes)
  end

  it 'is off, with no state topic to migrate, unless the routes declare recurring_tasks' do
    Karafka::App.routes.draw { active_job_topic :default }
    expect(Karafka::RecurringTasks.active?).to be(false)
    expect(declarations.map(&:name)).to eq(['default'])
  end

  it 'takes the tasks from the block and declares a compacted one-partition state topic' do
    Karafka::App.config.recurring_tasks.topics.schedules = 'app_recurring'
    Karafka::App.routes.draw do
      recurring_tasks(version: '2') { schedule(id: 'cleanup', cron: '*/5 * * * *') { nil } }
    end
    expect(Karafka::RecurringTasks.active?).to be(true)
    expect(Karafka::RecurringTasks.schedule.version).to eq('2')
    expect(Karafka::RecurringTasks.schedule.tasks.keys).to eq(['cleanup'])
    state = declarations.find { |declaration| declaration.name == 'app_recurring' }
    expect(state.to_h).to include(partitions: 1, replication_factor: 1, settings: { 'cleanup.policy' => 'compact' })
  end

  it "accepts Karafka's form: topics configured in the block, tasks from Karafka::Pro::RecurringTasks.define" do
    Karafka::Pro::RecurringTasks.define('1.0.0') { schedule(id: 'report', cron: '0 9 * * *') { nil } }
    Karafka::App.routes.draw do
      recurring_tasks(true) { |schedules_topic, _logs_topic| schedules_topic.config.replication_factor = 3 }
    end
    expect(Karafka::RecurringTasks.schedule.tasks.keys).to eq(['report'])
    state = declarations.find { |declaration| declaration.name == 'karafka_recurring_tasks_schedules' }
    expect(state.replication_factor).to eq(3)
  end

  it 'refuses a schedule version that is not a version number' do
    expect { Karafka::App.routes.draw { recurring_tasks(version: 'next') } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /version "next" is not a version number/)
  end

  it 'refuses a task id scheduled twice, and commands for unknown ids, naming them' do
    expect do
      Karafka::RecurringTasks.define { 2.times { schedule(id: 'twice', cron: '* * * * *') { nil } } }
    end.to raise_error(Karafka::Errors::InvalidConfigurationError, /"twice" is scheduled twice/)
    Karafka::RecurringTasks.define { schedule(id: 'known', cron: '* * * * *') { nil } }
    expect { Karafka::RecurringTasks.trigger('nope') }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /no recurring task "nope"; known: known/)
  end
end
