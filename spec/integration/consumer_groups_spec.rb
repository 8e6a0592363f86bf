# frozen_string_literal: true

require 'spec_helper'

# An app switching from Karafka keeps its consumer groups' committed offsets: Karafka 2.4+
# uses a `consumer_group :name` block's name as-is as Kafka's group.id, and config.group_id
# for routes outside any block. The offsets "Karafka committed" are set here with Kafka's own
# tool (kafka-consumer-groups' ConsumerGroupCommand), not with karafka-rs.
RSpec.describe 'Consumer groups (migration from Karafka)',
               lane: :host,
               lane_reason: "sets Karafka's offsets with Kafka's own Java tool; the chroot has no JVM, the group ids do not depend on Ruby" do
  let(:output) { File.join(Dir.tmpdir, "groups-#{SecureRandom.hex(4)}.jsonl") }
  let(:default_group) { unique_group('app') }
  let(:servers) { [] }

  after { servers.each(&:ensure_stopped) }

  def start_server(routes)
    env = { 'KARAFKA_BOOT_FILE' => File.join(ServerProcess::ROOT, 'spec/fixtures/consumer_groups_karafka.rb'),
            'SPEC_GROUPED_TOPICS' => routes.map { |group, topic| "#{group}:#{topic}" }.join(',') }
    ServerProcess.new(topics: [], group: default_group, output: output, env: env).start.tap { |s| servers << s }
  end

  # Commits `offset` for `group` on partition 0 of `topic`, as a stopped Karafka would have.
  def commit_as_karafka(group, topic, offset)
    # bin/kafka's jars (KAFKA_HOME: another checkout's vendor/kafka, for a worktree without them).
    home = ENV.fetch('KAFKA_HOME', File.join(ServerProcess::ROOT, 'vendor/kafka'))
    raise "no Kafka jars in #{home}/libs (bin/kafka install, or set KAFKA_HOME)" unless Dir.exist?(File.join(home, 'libs'))

    libs = File.join(home, 'libs', '*')
    command = ['java', '-cp', libs, 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
               '--bootstrap-server', SpecKafka.bootstrap, '--group', group, '--topic', "#{topic}:0",
               '--reset-offsets', '--to-offset', offset.to_s, '--execute']
    out = IO.popen(command, err: %i[child out], &:read)
    raise "ConsumerGroupCommand failed: #{out}" unless $?.success?
  end

  def enqueue(topic, ids)
    ids.each { |id| job_for(topic, SyncRecordingJob, id).enqueue }
  end

  def ids
    JobRecorder.read(output).map { |r| r['id'] }
  end

  it 'resumes every group where Karafka committed it: nothing re-run, nothing skipped' do
    named_topic = create_topic('groups-named')
    default_topic = create_topic('groups-default')
    named_group = unique_group('orders')
    enqueue(named_topic, %w[n0 n1 n2 n3 n4])
    enqueue(default_topic, %w[d0 d1 d2 d3])
    commit_as_karafka(named_group, named_topic, 3)
    commit_as_karafka(default_group, default_topic, 2)

    server = start_server([[named_group, named_topic], ['-', default_topic]])
    wait_until(timeout: 60, message: -> { "jobs after the commits; ran #{ids}; log:\n#{server.log[-3000..]}" }) do
      ids.size >= 4
    end
    enqueue(named_topic, %w[n5])
    enqueue(default_topic, %w[d4])
    wait_until(timeout: 30, message: -> { "the new jobs; ran #{ids}" }) { ids.size >= 6 }
    expect(server.stop('TERM').exitstatus).to eq(0)

    expect(ids.sort).to eq(%w[d2 d3 d4 n3 n4 n5])
    expect(committed_total(named_group, named_topic)).to eq(6)
    expect(committed_total(default_group, default_topic)).to eq(5)
  end
end
