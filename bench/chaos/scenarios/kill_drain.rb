# frozen_string_literal: true

# 20 kill -9s of `karafka server` during a 100,000-job drain; with --vp the topic has virtual
# partitions (8 lanes by key). Before each kill the driver waits for some progress; right after
# it, it counts the jobs that had finished but whose offsets were not committed (the most a
# restart may repeat, as the README promises). Static membership, so each restart takes the
# partitions back at once (restart cost without it: the restart scenario).
require_relative '../lib/chaos'

vp = ARGV.include?('--vp')
total = Chaos.scaled(100_000, min: 500)
kills = Chaos.scaled(20, min: 3)
partitions = vp ? 2 : 6
name = vp ? 'kill_drain_vp' : 'kill_drain'

Chaos.scenario(name, "#{kills} x kill -9 of karafka server over a #{total}-job drain " \
                     "(#{partitions} partitions#{vp ? ', virtual_partitions 8 lanes by key' : ''})") do |s|
  s.connect(s.broker.bootstrap)
  topic = s.topic(name, partitions: partitions)
  jobs = Array.new(total) do |i|
    vp ? s.job(ChaosKeyedJob, topic, "j#{i}", "k#{i % 1_000}") : s.job(ChaosJob, topic, "j#{i}")
  end
  s.enqueue_all(jobs)
  env = vp ? { 'CHAOS_VP' => '8', 'CHAOS_CONCURRENCY' => '8' } : {}
  random = Random.new(Integer(ENV.fetch('CHAOS_SEED', '1')))
  uncommitted = []
  kills.times do |i|
    server = s.server(topic, instance: 'member', env: env)
    target = [s.records.distinct + (total / (kills + 1) * random.rand(0.6..1.4)).round, total - 1].min
    s.wait_for(target, timeout: 120, what: "progress to #{target} before kill #{i + 1}")
    server.stop('KILL')
    s.disruption("kill -9 #{i + 1}")
    # What had finished but was not committed: a restart may repeat exactly these.
    committed = Karafka::Admin.committed_offsets(s.group, topic)
    done = s.records.refresh.runs.map { |r| [r['p'], r['o']] }.uniq
    uncommitted << done.count { |p, o| o >= committed.fetch(p, -1) }
  end
  last = s.server(topic, instance: 'member', env: env)
  s.wait_for(total, timeout: 300, what: 'the whole drain')
  status = last.stop('TERM')
  s.note("last server exited #{status&.exitstatus.inspect} after SIGTERM")
  sorted = uncommitted.sort
  s.figure('done_but_uncommitted_at_kills', "sum #{uncommitted.sum}, median #{sorted[sorted.size / 2]}, " \
                                            "max #{sorted.last} (the repeats a kill may cause)")
  s.note("duplicates are expected up to the sum of done_but_uncommitted_at_kills (#{uncommitted.sum})")
  if vp
    # Lane fairness per server lifetime and partition (lane = Karafka's reducer,
    # key.sum % 8): a lane that runs nothing while its siblings run holds the commit point.
    lifetimes = s.records.runs.group_by { |r| [r['pid'], r['p']] }.values.select { |rs| rs.size >= 200 }
    lanes = lifetimes.map do |rs|
      counts = Array.new(8, 0)
      rs.each { |r| counts[r['k'].sum % 8] += 1 }
      counts
    end
    starved = lanes.count { |c| c.min.zero? && c.max >= 100 }
    ratios = lanes.map { |c| c.min.fdiv(c.max) }.sort
    s.figure('vp_lane_fairness', "#{lanes.size} server lifetimes x partitions with >= 200 jobs; #{starved} with a lane at " \
                                 '0 jobs while another ran >= 100; smallest / largest lane: median ' \
                                 "#{ratios.empty? ? '-' : ratios[ratios.size / 2].round(2)}, min #{ratios.first&.round(2)}")
  end
  committed = Karafka::Admin.committed_offsets(s.group, topic).values.sum { |o| [o, 0].max }
  s.figure('committed_at_end', "#{committed} of #{total}")
end
