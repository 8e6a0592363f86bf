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
    before_kill = ticks.size
    wait_until(timeout: 30, message: 'a fresh tick') { ticks.size > before_kill }
    # Right after a tick: the next one is about a second away, so the kill falls between ticks.
    owner = servers.find { |server| server.pid == ticks.last['pid'] }
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
