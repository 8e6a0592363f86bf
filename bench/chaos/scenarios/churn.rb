# frozen_string_literal: true

# 3 servers churning (started and stopped with SIGTERM every few seconds, 1 to 3 running)
# over 50,000 ordered jobs: 500 keys x 100 steps with a partitioner key, each job 2 ms.
# Every run's start/end (CLOCK_MONOTONIC) is checked: two runs of one key must never
# overlap, and the steps of a key must first start in order.
require_relative '../lib/chaos'

keys = Chaos.scaled(500, min: 50)
steps = 100
total = keys * steps

Chaos.scenario('churn', "3 servers churning (start / SIGTERM) over #{total} ordered jobs (#{keys} keys x #{steps} steps, 6 partitions)") do |s|
  s.keyed = true
  s.connect(s.broker.bootstrap)
  topic = s.topic('churn', partitions: 6)
  jobs = (0...steps).flat_map { |step| (0...keys).map { |k| s.job(ChaosKeyedJob, topic, "u#{k}:#{step}", "u#{k}", 2) } }
  s.enqueue_all(jobs)
  random = Random.new(Integer(ENV.fetch('CHAOS_SEED', '1')))
  slots = %w[a b c].to_h { |slot| [slot, nil] }
  start = ->(slot) { slots[slot] = s.server(topic, instance: slot) }
  start.call('a')
  actions = 0
  deadline = Chaos.now + [600 * Chaos::SCALE, 120].max
  while s.records.distinct < total && Chaos.now < deadline
    sleep random.rand(2.0..5.0)
    running = slots.select { |_, server| server&.alive? }.keys
    stopped = slots.keys - running
    if running.size > 1 && (stopped.empty? || random.rand < 0.5)
      slot = running.sample(random: random)
      slots[slot].stop('TERM')
      s.disruption("SIGTERM #{slot}")
    elsif !stopped.empty?
      start.call(stopped.sample(random: random))
    end
    actions += 1
  end
  s.wait_for(total, timeout: 180, what: 'every job')
  slots.each_value { |server| server&.stop('TERM') }
  s.figure('churn_actions', actions)
  s.note('no key overlap and no key out of order is promised; repeats after SIGTERM are not expected')
end
