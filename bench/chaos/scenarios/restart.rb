# frozen_string_literal: true

# What a restart costs with the library's default membership (no group.instance.id set by
# the app): a server is killed with SIGKILL mid-drain and started again, twice; recovery is
# the time until a job runs again (today a new member waits for the old one's session to
# expire: 45 s by default).
require_relative '../lib/chaos'

restarts = Chaos.scaled(2, min: 1)

Chaos.scenario('restart', "#{restarts} x kill -9 and restart of karafka server with the default membership") do |s|
  s.connect(s.broker.bootstrap)
  topic = s.topic('restart', partitions: 2)
  total = 20_000
  s.enqueue_all(Array.new(total) { |i| s.job(ChaosJob, topic, "j#{i}", 5) })
  restarts.times do |i|
    server = s.server(topic)
    s.wait_for(s.records.distinct + 200, timeout: 180, what: "jobs before kill #{i + 1}")
    server.stop('KILL')
    s.disruption("kill -9 #{i + 1} and restart")
  end
  last = s.server(topic)
  s.wait_for(s.records.distinct + 200, timeout: 180, what: 'jobs after the last restart')
  last.stop('TERM')
  s.note("only #{s.records.distinct} of the #{total} enqueued jobs are meant to run here: lost and duplicates are not figures of this scenario")
  s.enqueued.replace(s.records.counts.keys)
end
