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

# The broker stamps each message when it stores it (LogAppendTime), which splits a job's
# latency in two: `perform_later` -> stored (producer and broker), stored -> `perform` starts
# (fetch, engine, worker).
def run
  topic = "bench_latency_#{RUN_ID}"
  Karafka::Admin.create_topic(topic, PARTITIONS, 1, 'message.timestamp.type': 'LogAppendTime')
  LateJob.queue_as(topic)
  result = Dir.mktmpdir('karafka_rs_bench') do |dir|
    with_server(server_env(topic, dir, JOBS), File.join(dir, 'server.log')) do |pid, spawned|
      measure_latency(dir, pid, spawned) { Karafka.producer.flush }
    end
  end
  result.merge(split: broker_split(topic, result[:runs]))
ensure
  Karafka::Admin.delete_topic(topic) if topic
end

# The measurement, once a server child (`pid`, running LateJob with its stamps in `dir`) is
# spawned: probe, steady enqueue, latencies. `flush` (the block) sends what the adapter may
# still buffer. Stops the server.
def measure_latency(dir, pid, spawned, &flush)
  # Probe: the server is ready once a job it did not have at boot has run.
  LateJob.perform_later(0, 'ready')
  flush&.call
  wait_for(File.join(dir, 'ready'), pid, 60)
  ready = now - spawned
  sleep 1 # let the probe's batch settle (commit, next poll) before measuring
  enqueue = enqueue_steadily
  flush&.call
  stamps = JSON.parse(wait_for(File.join(dir, 'lateness.json'), pid, TIMEOUT))
  enqueue.merge(ready: ready, latency: stamps['lateness'].map { |seconds| seconds * 1000 }.sort,
                runs: stamps['runs'], cpu: cpu_seconds(pid), exit: stop(pid))
end

# Each measured job's latency in milliseconds, split at its message's broker timestamp:
# { before: [...], after: [...], late: [[before, after], ...] for jobs over 10 ms }.
def broker_split(topic, runs)
  stored = {} # "topic/partition/offset" => broker timestamp (epoch seconds, whole milliseconds)
  PARTITIONS.times do |partition|
    count = Karafka::Admin.watermark_offsets(topic, partition).last
    Karafka::Admin.read_topic(topic, partition, count).each do |message|
      stored["#{topic}/#{partition}/#{message.offset}"] = message.timestamp.to_f
    end
  end
  pairs = runs.map do |id, due_at, started|
    at = stored.fetch(id) { raise "no message #{id} for a job that ran" }
    [(at - due_at) * 1000, (started - at) * 1000]
  end
  { before: pairs.map(&:first).sort, after: pairs.map(&:last).sort,
    late: pairs.select { |before, after| before + after > 10 } }
end

# One line on where the latency goes (bench/latency.rb's `broker_split`).
def split_note(r)
  split = r[:split]
  late = split[:late]
  share = late.empty? ? 'none' : "#{(late.sum(&:first) * 100 / late.sum { |b, a| b + a }).round}% of their latency before the broker stored them"
  "split at the broker's timestamp (LogAppendTime, truncated to the millisecond, so the first part " \
    "reads up to 1 ms short): `perform_later` → stored p50 #{ms(percentile(split[:before], 0.5))}, " \
    "p99 #{ms(percentile(split[:before], 0.99))}; stored → `perform` p50 #{ms(percentile(split[:after], 0.5))}, " \
    "p99 #{ms(percentile(split[:after], 0.99))}; #{late.size} jobs over 10 ms: #{share}"
end

def ms(value)
  "#{value.round(1)} ms"
end

# The cells of a results row: | jobs | achieved enqueue rate | p50 | p90 | p99 | p99.9 | max | min |
def latency_cells(r)
  lat = r[:latency]
  percentiles = [0.5, 0.9, 0.99, 0.999].map { |fraction| ms(percentile(lat, fraction)) }
  "| #{lat.size} | #{r[:rate].round} jobs/s (#{r[:elapsed].round(2)} s) | #{percentiles.join(' | ')} | " \
    "#{ms(lat.last)} | #{ms(lat.first)} |"
end

def distribution(r)
  lat = r[:latency]
  [5, 10, 20, 50, 100, 200, 500, 1000].map do |limit|
    "≤#{limit} ms: #{(lat.count { |value| value <= limit } * 100.0 / lat.size).round(1)}%"
  end.join(', ')
end

def run_notes(r)
  "enqueue loop at most #{ms(r[:behind] * 1000)} behind its schedule; server ready (probe ran) " \
    "#{r[:ready].round(2)} s after spawn; server CPU #{r[:cpu].round(2)} s (boot included); exit status #{r[:exit].inspect}"
end

def report(r)
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — end-to-end latency (`bench/latency.rb`)

    #{machine}; load average before #{LOAD_BEFORE}#{producer_knobs}; #{PARTITIONS} partitions, concurrency #{CONCURRENCY}, boot file `bench/karafka.rb` (`max_wait_time` 100 ms); target #{RATE.round} jobs/s for #{SECONDS} s (#{JOBS} `LateJob.perform_later`, produce_async), latency = wall clock at `perform` start in the server − wall clock just before `perform_later`.

    | jobs | achieved enqueue rate | p50 | p90 | p99 | p99.9 | max | min |
    |---|---|---|---|---|---|---|---|
    #{latency_cells(r)}

    - distribution: #{distribution(r)}
    - #{split_note(r)}
    - #{run_notes(r)}
  MD
end

LOAD_BEFORE = load_average
# Only when run as a script: bench/sidekiq_latency.rb loads this file for `run` and the rest.
if $PROGRAM_NAME == __FILE__
  result = run
  append_results(report(result))
end
