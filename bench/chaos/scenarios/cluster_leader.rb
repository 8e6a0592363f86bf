# frozen_string_literal: true

# A 3-broker KRaft cluster (bin/kafka cluster; replication factor 3, min.insync.replicas 2)
# loses the leader of partition 0 (kill -9) mid-stream and gets it back CHAOS_OUTAGE_S (5)
# seconds later, while jobs are enqueued (every 10th with produce_sync, the rest async) and a
# server consumes them.
require_relative '../lib/chaos'

outage = Float(ENV.fetch('CHAOS_OUTAGE_S', '5'))
rate = 500

Chaos.scenario('cluster_leader', "3-broker cluster (RF 3, min.insync.replicas 2) losing partition 0's leader mid-stream, back #{outage} s later") do |s|
  cluster = s.cluster
  s.connect(cluster.bootstrap)
  topic = s.topic('cluster', partitions: 3, replication: 3, config: { 'min.insync.replicas' => '2' })
  server = s.server(topic, instance: 'member', env: { 'CHAOS_CONCURRENCY' => '3' })
  s.enqueue(ChaosJob, topic, 'warmup')
  s.wait_until(timeout: 90, what: 'the server to consume') { s.records.distinct.positive? }
  duration = [60 * Chaos::SCALE, 30].max
  leader = cluster.leader(topic, 0)
  s.figure('killed_node', leader)
  killer = Thread.new do
    sleep duration / 4
    cluster.kill_broker(leader)
    s.disruption("kill -9 of node #{leader}, leader of partition 0")
    sleep outage
    cluster.restart_broker(leader)
  end
  started = Chaos.now
  i = 0
  while Chaos.now - started < duration || killer.alive?
    s.enqueue((i % 10).zero? ? ChaosSyncJob : ChaosJob, topic, "j#{i}")
    i += 1
    behind = started + i.fdiv(rate) - Chaos.now
    sleep behind if behind.positive?
  end
  killer.join
  s.figure('new_leader_after_restart', cluster.leader(topic, 0))
  s.note("#{i} enqueue calls, #{s.enqueue_errors} raised (not counted as enqueued)")
  s.note("producer flush: #{Karafka.producer.flush(120_000).inspect}")
  s.excused = s.delivery_failures
  s.wait_for(s.enqueued.uniq.size, timeout: 180, what: 'every acknowledged job')
  s.figure('server_alive', server.alive?)
  s.note("server exited #{server.stop('TERM')&.exitstatus.inspect} after SIGTERM")
end
