# frozen_string_literal: true

# A frozen server: two servers share 4 partitions of keyed jobs enqueued at a steady rate; one
# is stopped with SIGSTOP for twice its session timeout (6 s here, so the group gives its
# partitions to the other), then resumed with SIGCONT. Whatever it starts after the resume on
# partitions it no longer owns runs concurrently with the new owner: key overlaps, repeats.
require_relative '../lib/chaos'

session_ms = 6_000
rate = 300

Chaos.scenario('frozen', "a server frozen (SIGSTOP) for #{2 * session_ms / 1000} s, past its #{session_ms / 1000} s session timeout, then SIGCONT") do |s|
  s.keyed = true
  s.connect(s.broker.bootstrap)
  topic = s.topic('frozen', partitions: 4)
  env = { 'CHAOS_KAFKA' => "session.timeout.ms=#{session_ms},heartbeat.interval.ms=1000", 'CHAOS_CONCURRENCY' => '4' }
  frozen = s.server(topic, instance: 'a', env: env)
  other = s.server(topic, instance: 'b', env: env)
  steps = Hash.new(0)
  keys = 100
  enqueuer = Thread.new do
    started = Chaos.now
    i = 0
    while Chaos.now - started < [40 * Chaos::SCALE, 25].max
      key = "u#{i % keys}"
      s.enqueue(ChaosKeyedJob, topic, "#{key}:#{steps[key]}", key, 5)
      steps[key] += 1
      i += 1
      behind = started + i.fdiv(rate) - Chaos.now
      sleep behind if behind.positive?
    end
  end
  s.wait_until(timeout: 60, what: 'both servers to run jobs') do
    s.records.refresh.runs.map { |r| r['pid'] }.uniq.size >= 2
  end
  frozen_at = Chaos.epoch
  frozen.signal('STOP')
  s.disruption('SIGSTOP')
  sleep 2 * session_ms / 1000.0
  resumed = Chaos.epoch
  frozen.signal('CONT')
  s.disruption('SIGCONT')
  enqueuer.join
  Karafka.producer.flush(30_000)
  s.wait_for(s.enqueued.uniq.size, timeout: 120, what: 'every job')
  [frozen, other].each { |server| server.stop('TERM') }
  runs = s.records.runs
  early = runs.select { |r| r['pid'] == frozen.pid && r['s'].between?(resumed, resumed + 1.0) }
  s.figure('jobs_started_by_the_frozen_server_within_1s_of_SIGCONT', early.size)
  taken = runs.select { |r| r['pid'] == other.pid && r['s'].between?(frozen_at, resumed) }.map { |r| r['p'] }.uniq
  s.figure('... of them on partitions the other server had taken over during the freeze',
           "#{early.count { |r| taken.include?(r['p']) }} (partitions taken over: #{taken.sort.inspect})")
  # A job frozen mid-run overlaps its re-run by the new owner whatever the consumer does;
  # a job the frozen server *starts* after SIGCONT on a partition it lost need not.
  others = runs.reject { |r| r['pid'] == frozen.pid }.group_by { |r| r['k'] }
  started_after = runs.select { |r| r['pid'] == frozen.pid && r['s'] > resumed }
  clashing = started_after.select do |r|
    (others[r['k']] || []).any? { |o| o['ms'] < r['mf'] && r['ms'] < o['mf'] }
  end
  s.figure('overlaps_by_runs_the_frozen_server_started_after_SIGCONT', clashing.size)
  s.note('promised: no two runs of one key at once, except a run frozen mid-job (no consumer can stop that one); ' \
         'repeats after a freeze are bounded by what was done but uncommitted')
end
