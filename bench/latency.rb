# frozen_string_literal: true

# End-to-end latency of karafka-rs at a steady enqueue rate, against a real broker: from
# `perform_later` (async, the default) in this process to the start of `perform` in a
# `karafka server` child. Usage (repo root, after `bin/kafka start`): ruby bench/latency.rb
# See bench/README.md; results are appended to bench/RESULTS.md.
require_relative 'support'
require_relative 'late_job'

RATE = Float(ENV.fetch('BENCH_RATE', '1000')) # jobs per second
SECONDS = Float(ENV.fetch('BENCH_SECONDS', '10'))
JOBS = (RATE * SECONDS).round
PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '6'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '120')) # seconds to wait for the jobs after enqueuing

# The job is LateJob (bench/late_job.rb): `perform(due_at)` notes `Time.now.to_f - due_at`
# (CLOCK_REALTIME) when perform starts, and its JOBS-th run writes them all to lateness.json.
# Here `due_at` is the wall clock at enqueue, so its "lateness" is the end-to-end latency.
# Keyed by job id (producer side only) so the jobs spread over the partitions.
LateJob.karafka_options(partitioner: ->(job) { job.job_id })

def percentile(sorted, fraction)
  sorted[((sorted.size - 1) * fraction).round]
end

def wait_for(path, pid, timeout)
  deadline = now + timeout
  until File.exist?(path)
    raise 'the server exited early' if Process.waitpid(pid, Process::WNOHANG)
    raise "timed out waiting for #{File.basename(path)}" if now > deadline

    sleep 0.02 # polling interval, with a deadline
  end
  File.read(path)
end

# Enqueues JOBS jobs at RATE/s, paced on absolute deadlines (start + i / RATE): a late
# iteration is not followed by a sleep, so the schedule catches up instead of drifting.
def enqueue_steadily
  started = now
  behind = 0.0
  JOBS.times do |index|
    deadline = started + (index / RATE)
    wait = deadline - now
    wait.positive? ? sleep(wait) : behind = [behind, -wait].max
    LateJob.perform_later(Time.now.to_f)
  end
  elapsed = now - started
  { elapsed: elapsed, rate: JOBS / elapsed, behind: behind }
end

def run
  topic = "bench_latency_#{RUN_ID}"
  Karafka::Admin.create_topic(topic, PARTITIONS)
  LateJob.queue_as(topic)
  Dir.mktmpdir('karafka_rs_bench') do |dir|
    env = server_env(topic, dir, JOBS)
    with_server(env, File.join(dir, 'server.log')) do |pid, spawned|
      # Probe: the server is ready once a job it did not have at boot has run.
      LateJob.perform_later(0, 'ready')
      Karafka.producer.flush
      wait_for(File.join(dir, 'ready'), pid, 60)
      ready = now - spawned
      sleep 1 # let the probe's batch settle (commit, next poll) before measuring
      enqueue = enqueue_steadily
      Karafka.producer.flush
      lateness = JSON.parse(wait_for(File.join(dir, 'lateness.json'), pid, TIMEOUT))['lateness']
      enqueue.merge(ready: ready, latency: lateness.map { |seconds| seconds * 1000 }.sort,
                    cpu: cpu_seconds(pid), exit: stop(pid))
    end
  end
ensure
  Karafka::Admin.delete_topic(topic) if topic
end

def ms(value)
  "#{value.round(1)} ms"
end

def report(r)
  lat = r[:latency]
  buckets = [5, 10, 20, 50, 100, 200, 500, 1000].map do |limit|
    "≤#{limit} ms: #{(lat.count { |value| value <= limit } * 100.0 / lat.size).round(1)}%"
  end
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — end-to-end latency (`bench/latency.rb`)

    #{machine}; load average before #{LOAD_BEFORE}; #{PARTITIONS} partitions, concurrency #{CONCURRENCY}, boot file `bench/karafka.rb` (`max_wait_time` 100 ms); target #{RATE.round} jobs/s for #{SECONDS} s (#{JOBS} `LateJob.perform_later`, produce_async), latency = wall clock at `perform` start in the server − wall clock just before `perform_later`.

    | jobs | achieved enqueue rate | p50 | p90 | p99 | p99.9 | max | min |
    |---|---|---|---|---|---|---|---|
    | #{lat.size} | #{r[:rate].round} jobs/s (#{r[:elapsed].round(2)} s) | #{ms(percentile(lat, 0.5))} | #{ms(percentile(lat, 0.9))} | #{ms(percentile(lat, 0.99))} | #{ms(percentile(lat, 0.999))} | #{ms(lat.last)} | #{ms(lat.first)} |

    - distribution: #{buckets.join(', ')}
    - enqueue loop at most #{ms(r[:behind] * 1000)} behind its schedule; server ready (probe ran) #{r[:ready].round(2)} s after spawn; server CPU #{r[:cpu].round(2)} s (boot included); exit status #{r[:exit].inspect}
  MD
end

LOAD_BEFORE = load_average
result = run
append_results(report(result))
