# frozen_string_literal: true

require 'spec_helper'
require 'tmpdir'

RSpec.describe Karafka::RecurringTasks::YamlLoader, skip: FUGIT_MISSING do
  let(:schedule) { Karafka::RecurringTasks::Schedule.new }
  let(:path) { File.join(Dir.mktmpdir, 'recurring.yml') }

  after { FileUtils.rm_rf(File.dirname(path)) }

  def load(yaml, env: 'production')
    File.write(path, yaml)
    described_class.load(path, schedule, env: env)
  end

  it "reads Solid Queue's recurring.yml: the environment's tasks, class with args and queue, and commands" do
    load(<<~YAML)
      production:
        cleanup:
          class: RecordingJob
          args: [stale, 42]
          queue: maintenance
          schedule: every 5 minutes
          description: drop stale rows
        counter:
          command: "$recurring_yaml_spec = ($recurring_yaml_spec || 0) + 1"
          schedule: "0 9 * * * Europe/Paris"
      development:
        other:
          class: RecordingJob
          schedule: every second
    YAML
    expect(schedule.tasks.keys).to eq(%w[cleanup counter])
    expect(schedule.tasks['cleanup'].description).to eq('drop stale rows')
    expect(schedule.tasks['counter'].cron).to eq('0 9 * * * Europe/Paris')

    enqueued = []
    allow(RecordingJob).to receive(:set).with({ queue: 'maintenance' }).and_return(
      Class.new { define_method(:perform_later) { |*args| enqueued << args } }.new
    )
    schedule.tasks['cleanup'].execute
    schedule.tasks['counter'].execute
    expect(enqueued).to eq([['stale', 42]])
    expect($recurring_yaml_spec).to eq(1) # rubocop:disable Style/GlobalVars -- set by the command
  end

  it 'reads a file without environments as one list of tasks' do
    load("cleanup:\n  class: RecordingJob\n  schedule: '*/5 * * * *'\n")
    expect(schedule.tasks.keys).to eq(['cleanup'])
  end

  it 'names the file and the task of a mistake' do
    expect { load("cleanup:\n  class: RecordingJob\n  schedul: every day\n") }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /recurring.yml: task "cleanup": unknown keys schedul/)
    expect { load("cleanup:\n  schedule: every day\n") }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /task "cleanup" needs `class` or `command`/)
  end
end
