# frozen_string_literal: true

require 'spec_helper'

# Ordered jobs (Enhanced Active Job): with a partitioner, the jobs of one resource land on one
# partition and run one at a time, in enqueue order - across server processes too.
RSpec.describe 'Ordered jobs across two server processes' do
  let(:partitions) { 6 }
  let(:topic) { create_topic('ordered-users', partitions: partitions) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "ordered-#{SecureRandom.hex(4)}.jsonl") }
  let(:servers) { [] }
  let(:kinds) { [UserStepJob, UserStepPartitionKeyJob, UserStepPartitionJob] }
  let(:users) { 100 }
  let(:steps) { 50 }

  after { servers.each(&:ensure_stopped) }

  # The latest rebalance line of a server's log: its current partitions, or nil if revoked.
  def current_assignment(server)
    last = server.log.scan(/(Assigned|Revoked) partitions: (.*)$/).last
    return nil unless last && last[0] == 'Assigned'

    last[1].split(', ').select { |tp| tp.start_with?("#{topic}/") }
  end

  def wait_for_both_to_own_partitions
    wait_until(timeout: 60, message: -> { servers.map(&:log).join("\n----\n") }) do
      owned = servers.map { |s| current_assignment(s) }
      owned.all? { |tps| tps&.any? } && owned.flatten.sort.uniq.size == partitions && owned.flatten.size == partitions
    end
  end

  it 'runs each user’s jobs in enqueue order, never two at once, with :key, :partition_key and :partition' do
    2.times do
      servers << ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 3).start
    end
    wait_for_both_to_own_partitions

    jobs = (0...steps).flat_map { |step| kinds.flat_map { |kind| (0...users).map { |user| job_for(topic, kind, user, step) } } }
    jobs.each_slice(1_500) { |slice| ActiveJob.perform_all_later(slice) }
    expect(Karafka.producer.flush(30_000)).to be(true)

    expected = kinds.size * users * steps
    wait_until(timeout: 120, message: -> { "#{expected} jobs" }) { File.exist?(output) && File.read(output).count("\n") >= expected }
    records = JobRecorder.read(output)
    expect(records.size).to eq(expected)
    expect(records.map { |r| r['pid'] }.uniq.size).to eq(2), 'both servers ran jobs'

    records.group_by { |r| [r['kind'], r['user']] }.each do |(kind, user), runs|
      runs = runs.sort_by { |r| r['started'] }
      expect(runs.map { |r| r['step'] }).to eq((0...steps).to_a), "#{kind} user #{user} in order"
      runs.each_cons(2) do |a, b|
        expect(b['started']).to be >= a['finished'], "#{kind} user #{user}: steps #{a['step']} and #{b['step']} overlapped"
      end
    end
  end
end
