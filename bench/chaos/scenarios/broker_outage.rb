# frozen_string_literal: true

# A broker kill -9 and a restart CHAOS_OUTAGE_S (4) seconds later, on a broker of this
# scenario's own, while a server consumes:
#   enqueue-async  mid-enqueue, jobs dispatched with perform_later (produce_async)
#   enqueue-sync   mid-enqueue, jobs dispatched with produce_sync (ack = returned without raising)
#   drain          mid-drain of a backlog (nothing enqueued meanwhile)
# An async job whose delivery failed is reported by the producer without its id, so missing
# jobs are excused up to the number of delivery failures reported (shown separately).
require_relative '../lib/chaos'

mode = ARGV.fetch(0)
outage = Float(ENV.fetch('CHAOS_OUTAGE_S', '4'))
titles = { 'enqueue-async' => 'mid-enqueue, async dispatch', 'enqueue-sync' => 'mid-enqueue, sync dispatch',
           'drain' => 'mid-drain' }
raise ArgumentError, "mode must be one of #{titles.keys.join(', ')}" unless titles.key?(mode)

Chaos.scenario("broker_#{mode.tr('-', '_')}", "broker kill -9 and restart #{outage} s later, #{titles[mode]}") do |s|
  broker = s.own_broker
  s.connect(broker.bootstrap)
  topic = s.topic('outage', partitions: 3)
  server = s.server(topic, instance: 'member', env: { 'CHAOS_CONCURRENCY' => '3' })

  if mode == 'drain'
    total = Chaos.scaled(40_000, min: 2_000)
    # 2 kB jobs: the prefetch (4 MiB a partition) holds ~2,000 of them, so most of the drain
    # must be fetched after the outage.
    padding = 'p' * 2_000
    s.enqueue_all(Array.new(total) { |i| s.job(ChaosJob, topic, "j#{i}", 1, padding) })
    s.wait_for(total / 3, timeout: 120, what: 'a third of the drain')
    broker.kill
    s.disruption('broker kill -9')
    sleep outage
    broker.start
  else
    klass = mode == 'enqueue-sync' ? ChaosSyncJob : ChaosJob
    rate = mode == 'enqueue-sync' ? 200 : 1_000
    duration = [60 * Chaos::SCALE, 12].max
    s.enqueue(klass, topic, 'warmup')
    s.wait_until(timeout: 60, what: 'the server to consume') { s.records.distinct.positive? }
    killer = Thread.new do
      sleep duration / 4
      broker.kill
      s.disruption('broker kill -9')
      sleep outage
      broker.start
    end
    started = Chaos.now
    i = 0
    while Chaos.now - started < duration || killer.alive?
      s.enqueue(klass, topic, "j#{i}")
      i += 1
      behind = started + i.fdiv(rate) - Chaos.now
      sleep behind if behind.positive?
    end
    killer.join
    s.note("#{i} enqueue calls, #{s.enqueue_errors} raised (not counted as enqueued)")
    flushed = Karafka.producer.flush(120_000)
    s.note("producer flush after the run: #{flushed.inspect}")
    s.excused = s.delivery_failures
  end
  s.wait_for(s.enqueued.uniq.size, timeout: 180, what: 'every acknowledged job')
  s.figure('server_alive_after_outage', server.alive?)
  commit_errors = s.server_log_lines(/commit/i)
  s.figure('commit_errors_logged', commit_errors.size)
  status = server.stop('TERM')
  s.note("server exited #{status&.exitstatus.inspect} after SIGTERM")
  s.note('duplicates are expected up to what finished but was not committed when the broker died')
end
