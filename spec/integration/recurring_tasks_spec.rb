# frozen_string_literal: true

require 'spec_helper'
require 'open3'

# Recurring tasks against the real broker: two `karafka server` processes compete for the
# state topic; the owner fires a task every second that records its tick (and its pid) in a
# results topic.
RSpec.describe 'Recurring tasks', skip: FUGIT_MISSING do
  let(:group) { unique_group('recurring') }
  let(:state_topic) { "recurring-state-#{SecureRandom.hex(4)}" }
  let(:results) { create_topic('recurring-results') }
  let(:servers) { [] }
  let(:root) { File.expand_path('../..', __dir__) }
  let(:env) do
    { 'KARAFKA_BOOT_FILE' => File.join(root, 'spec/fixtures/recurring_karafka.rb'), 'KAFKA_BOOTSTRAP' => SpecKafka.bootstrap,
      'SPEC_GROUP' => group, 'SPEC_STATE_TOPIC' => state_topic, 'SPEC_RESULTS' => results }
  end

  before { Karafka::Admin.create_topic(state_topic, 1, 1, { 'cleanup.policy': 'compact' }) }

  after do
    servers.each(&:ensure_stopped)
    Karafka::Admin.delete_topic(state_topic)
  end

  def start_server
    start_server_with({})
  end

  def start_server_with(extra)
    ServerProcess.new(topics: [], group: group, output: File::NULL, env: env.merge(extra)).start.tap { |server| servers << server }
  end

  # @return [Array<Hash>] every result, in the order the owners produced them
  def fired
    Karafka::Admin.read_topic(results, 0, 100_000, 0).map { |message| JSON.parse(message.raw_payload) }
  end

  def ticks
    fired.select { |row| row['task'] == 'tick' }
  end

  # @return [Hash, nil] the owner's last record of the task in the state topic
  def task_state(id)
    message = Karafka::Admin.read_topic(state_topic, 0, 100_000, 0).reverse_each.find { |row| row.raw_key == "task:#{id}" }
    message && JSON.parse(message.raw_payload)
  end

  # @return [Hash, nil] the `tick` task's record when its last tick is done and the next one
  #   is at least 300 ms away
  def done_between_ticks
    state = task_state('tick')
    state if state && state['status'] == 'done' && state['tick'] + 1 - Time.now.to_f > 0.3
  end

  def cli(*args)
    Open3.capture2e(env, RbConfig.ruby, '-I', File.join(root, 'lib'), File.join(root, 'exe/karafka'), 'recurring', *args,
                    chdir: root)
  end

  it 'fires each tick exactly once across a kill -9 of the owner, catching up the ticks missed meanwhile' do
    first = start_server
    wait_until(timeout: 60, message: -> { "first ticks; log:\n#{first.log}" }) { ticks.size >= 3 }
    second = start_server
    # The second process has joined once the group rebalanced; a few more ticks after that.
    wait_until(timeout: 60, message: -> { "a tick after the second joined; log:\n#{second.log}" }) do
      second.log.include?('Recurring tasks') || ticks.size >= 8
    end
    # Between ticks: the owner recorded its last tick as done, and the next one is still at
    # least 300 ms away. (A kill while a tick fires leaves that tick unfired, by design; the
    # example after this one covers it.)
    done = wait_until(timeout: 30, message: 'a tick recorded as done, well before the next') { done_between_ticks }
    owner = servers.find { |server| done['process'].end_with?(":#{server.pid}") }
    survivor = (servers - [owner]).first
    owner.stop('KILL')
    killed_at = Time.now.to_i

    wait_until(timeout: 90, message: -> { "ticks from the survivor; log:\n#{survivor.log}" }) do
      ticks.count { |row| row['pid'] == survivor.pid && row['tick'] > killed_at + 2 } >= 3
    end
    expect(survivor.stop('TERM').success?).to be(true)

    seconds = ticks.map { |row| row['tick'] }
    expect(seconds).to eq(seconds.uniq)
    expect(seconds).to eq((seconds.first..seconds.last).to_a)
    expect(ticks.map { |row| row['pid'] }.uniq).to contain_exactly(owner.pid, survivor.pid)
    # The ticks missed while the killed owner's session timed out were fired by the survivor.
    expect(ticks.find { |row| row['tick'] == killed_at + 1 }['pid']).to eq(survivor.pid)
    expect(survivor.log).not_to include('recurring_tasks.task.unconfirmed')
  end

  it 'reports a tick whose owner died while firing it, and does not fire it again (at most once)' do
    hung = start_server_with('SPEC_HANG_TASK' => '1', 'SPEC_HANGS' => '1')
    started = wait_until(timeout: 60, message: -> { "the hanging tick; log:\n#{hung.log}" }) do
      fired.find { |row| row['task'] == 'hang' }
    end
    expect(task_state('hang')).to include('status' => 'firing', 'tick' => started['tick'])
    hung.stop('KILL')

    survivor = start_server_with('SPEC_HANG_TASK' => '1')
    wait_until(timeout: 90, message: -> { "hang ticks from the survivor; log:\n#{survivor.log}" }) do
      fired.count { |row| row['task'] == 'hang' && row['pid'] == survivor.pid } >= 2
    end
    expect(survivor.stop('TERM').success?).to be(true)

    hangs = fired.select { |row| row['task'] == 'hang' }
    expect(hangs.first).to eq(started)
    expect(hangs.drop(1).map { |row| row['pid'] }.uniq).to eq([survivor.pid])
    expect(hangs.drop(1).map { |row| row['tick'] }).to all(be > started['tick'])
    expect(survivor.log).to include('recurring_tasks.task.unconfirmed')
      .and include("recurring task hang: the previous owner stopped while firing #{Time.at(started['tick'])}")
  end

  it 'lets no process with an older schedule version fire once a newer one has (rolling deploys)' do
    newer = start_server_with('SPEC_VERSION' => '2')
    wait_until(timeout: 60, message: -> { "ticks of version 2; log:\n#{newer.log}" }) { ticks.size >= 2 }
    expect(newer.stop('TERM').success?).to be(true)

    older = start_server_with('SPEC_VERSION' => '1')
    wait_until(timeout: 60, message: -> { "the version error; log:\n#{older.log}" }) do
      older.log.include?('recurring_tasks.version')
    end
    expect(older.log).to include('schedule version 1 is older than 2, which fired last; it fires nothing')
    expect(older.stop('TERM').success?).to be(true)
    expect(ticks.map { |row| row['pid'] }.uniq).to eq([newer.pid])
  end

  it 'applies disable, trigger and enable from the CLI, without catching up the disabled ticks' do
    server = start_server
    wait_until(timeout: 60, message: -> { "first ticks; log:\n#{server.log}" }) { ticks.size >= 2 }

    output, status = cli('disable', 'tick')
    expect(status.success?).to be(true), output
    output, status = cli('trigger', 'manual')
    expect(status.success?).to be(true), output
    wait_until(timeout: 30, message: -> { "the triggered task; log:\n#{server.log}" }) do
      fired.any? { |row| row['task'] == 'manual' }
    end
    # The owner read the disable before the trigger: no tick after the triggered task.
    disabled_from = fired.index { |row| row['task'] == 'manual' }
    enabled_at = Time.now.to_f
    output, status = cli('enable', 'tick')
    expect(status.success?).to be(true), output
    wait_until(timeout: 30, message: 'ticks again') { fired.size > disabled_from + 2 }
    expect(server.stop('TERM').success?).to be(true)

    after_disable = fired.drop(disabled_from + 1)
    expect(fired.count { |row| row['task'] == 'manual' }).to eq(1)
    expect(after_disable.map { |row| row['task'] }.uniq).to eq(['tick'])
    expect(after_disable.map { |row| row['tick'] }).to all(be > enabled_at.floor)

    output, status = cli('list')
    expect(status.success?).to be(true), output
    expect(output).to match(/^tick\s+\* \* \* \* \* \*\s+yes\s+\d{4}-.*\(done\)/)
    expect(output).to match(/^manual\s+0 0 1 1 \*\s+no\s+\d{4}-.*\(done\)\s+-$/)
  end
end
