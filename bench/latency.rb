# frozen_string_literal: true

# End-to-end latency at steady enqueue rates, karafka-rs next to Sidekiq in the same run: from
# `perform_later` in this process to the start of `perform` in a server child, for each rate of
# BENCH_RATES, over BENCH_ROUNDS rounds in which the two servers take turns. karafka-rs's time
# is split at the broker's append time and at stamps the engine notes per job
# (KARAFKA_RS_LATENCY_TRACE, see ext/karafka_rs/src/core/latency_trace.rs).
# Usage (repo root): bench/redis start; ruby bench/latency.rb; bench/redis stop
# (BENCH_SIDEKIQ=0: karafka-rs only, no Redis needed). See bench/README.md.
require_relative 'support'
require_relative 'late_job'

RATES = ENV.fetch('BENCH_RATES', '100,500,2000').split(',').map { |rate| Float(rate) }
SECONDS = Float(ENV.fetch('BENCH_SECONDS', '10'))
ROUNDS = Integer(ENV.fetch('BENCH_ROUNDS', '3'))
PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '6'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '120')) # seconds to wait for the jobs after enqueuing
SIDEKIQ = ENV.fetch('BENCH_SIDEKIQ', '1') != '0'
# BENCH_HOG=1: a child process burns one core for the whole run (the "loaded machine" case).
HOG = ENV.fetch('BENCH_HOG', '0') == '1'
# Side-by-side experiments: a third server, "karafka-rs variant", whose runs take turns with
# the others: its producer gets BENCH_VARIANT_PRODUCER_KAFKA and its server BENCH_VARIANT_KAFKA
# on top of the usual settings (`key=value,key=value`).
def kafka_pairs(name)
  ENV.fetch(name, '').split(',').to_h { |pair| pair.split('=', 2) }
end
VARIANT_PRODUCER = kafka_pairs('BENCH_VARIANT_PRODUCER_KAFKA')
VARIANT_SERVER = kafka_pairs('BENCH_VARIANT_KAFKA')
VARIANT = !(VARIANT_PRODUCER.empty? && VARIANT_SERVER.empty?)

sidekiq_client! if SIDEKIQ

# The job is LateJob (bench/late_job.rb): `perform(due_at)` notes `Time.now.to_f - due_at`
# (CLOCK_REALTIME) when perform starts, and its BENCH_JOBS-th run writes them all to
# lateness.json. Here `due_at` is the wall clock at enqueue, so its "lateness" is the
# end-to-end latency. Keyed by job id (producer side only) so the jobs spread over partitions.
LateJob.karafka_options(partitioner: ->(job) { job.job_id })
if VARIANT
  variant_producer = Karafka::Producer.new(kafka: KarafkaApp.config.kafka.merge(VARIANT_PRODUCER.transform_keys(&:to_sym)))
  LateJob.karafka_options(partitioner: ->(job) { job.job_id },
                          producer: ->(_job) { Thread.current[:bench_variant] ? variant_producer : Karafka.producer })
end

def percentile(sorted, fraction)
  sorted[((sorted.size - 1) * fraction).round]
end

# Enqueues `jobs` jobs at `rate`/s, paced on absolute deadlines (start + i / rate): a late
# iteration is not followed by a sleep, so the schedule catches up instead of drifting.
def enqueue_steadily(rate, jobs)
  started = now
  behind = 0.0
  jobs.times do |index|
    wait = started + (index / rate) - now
    wait.positive? ? sleep(wait) : behind = [behind, -wait].max
    LateJob.perform_later(Time.now.to_f)
  end
  elapsed = now - started
  { elapsed: elapsed, rate: jobs / elapsed, behind: behind }
end

# The measurement, once a server child (`pid`, running LateJob with its stamps in `dir`) is
# spawned: probe, steady enqueue, latencies. `flush` (the block) sends what the adapter may
# still buffer. Stops the server.
def measure_latency(dir, pid, rate, jobs, &flush)
  # Probe: the server is ready once a job it did not have at boot has run.
  LateJob.perform_later(0, 'ready')
  flush&.call
  wait_for(File.join(dir, 'ready'), pid, 60)
  sleep 1 # let the probe's batch settle (commit, next poll) before measuring
  enqueue = enqueue_steadily(rate, jobs)
  flush&.call
  stamps = JSON.parse(wait_for(File.join(dir, 'lateness.json'), pid, TIMEOUT))
  enqueue.merge(latency: stamps['lateness'].map { |seconds| seconds * 1000 }.sort,
                runs: stamps['runs'], cpu: cpu_seconds(pid), exit: stop(pid))
end

def run_karafka(rate, variant: false)
  Thread.current[:bench_variant] = variant
  jobs = (rate * SECONDS).round
  topic = "bench_latency_#{RUN_ID}_#{SecureRandom.hex(2)}"
  Karafka::Admin.create_topic(topic, PARTITIONS, 1, 'message.timestamp.type': 'LogAppendTime')
  LateJob.queue_adapter = :karafka
  LateJob.queue_as(topic)
  Dir.mktmpdir('karafka_rs_bench') do |dir|
    trace = File.join(dir, 'trace.txt')
    env = server_env(topic, dir, jobs).merge('KARAFKA_RS_LATENCY_TRACE' => trace)
    env['BENCH_KAFKA'] = [ENV['BENCH_KAFKA'], ENV['BENCH_VARIANT_KAFKA']].compact.join(',') if variant && !VARIANT_SERVER.empty?
    producer = variant ? LateJob.karafka_options[:producer].call(nil) : Karafka.producer
    result = with_server(env, File.join(dir, 'server.log')) do |pid, _spawned|
      measure_latency(dir, pid, rate, jobs) { producer.flush }
    end
    keep_trace(trace, result[:runs])
    result.merge(segments: segments(topic, result[:runs], File.read(trace)))
  end
ensure
  Thread.current[:bench_variant] = false
  Karafka::Admin.delete_topic(topic) if topic
end

# BENCH_KEEP_TRACE=DIR: the engine's stamps and the jobs' enqueue/start times of each run are
# copied there (trace-N.txt, runs-N.json), for bench/wire_split.py to set against a capture.
def keep_trace(trace, runs)
  return unless (keep = ENV.fetch('BENCH_KEEP_TRACE', nil))

  FileUtils.mkdir_p(keep)
  n = Dir[File.join(keep, 'trace-*.txt')].size + 1
  FileUtils.cp(trace, File.join(keep, "trace-#{n}.txt"))
  File.write(File.join(keep, "runs-#{n}.json"), JSON.generate(runs))
end

# The same LateJob through Active Job's :sidekiq adapter (`perform_later` = one LPUSH, which
# returns once Redis has the job), to a fresh queue.
def run_sidekiq(rate)
  jobs = (rate * SECONDS).round
  queue = "bench_latency_#{RUN_ID}_#{SecureRandom.hex(2)}"
  LateJob.queue_adapter = :sidekiq
  LateJob.queue_as(queue)
  Dir.mktmpdir('karafka_rs_sidekiq_latency') do |dir|
    env = { 'BENCH_STAMP_DIR' => dir, 'BENCH_JOBS' => jobs.to_s }
    with_sidekiq(env, queue, CONCURRENCY, File.join(dir, 'sidekiq.log')) do |pid, _spawned|
      measure_latency(dir, pid, rate, jobs)
    end
  end
ensure
  LateJob.queue_adapter = :karafka
  Sidekiq::Queue.new(queue).clear if queue # nothing left behind if the run failed
end

SEGMENTS = {
  stored: '`perform_later` → stored by the broker',
  notified: 'stored → librdkafka signals its queue (fetch)',
  fetched: 'signalled → the engine took it (loop wake-up)',
  woken: 'taken → its worker woke (buffer, wake-up)',
  claimed: 'woke → claimed holding the GVL',
  started: 'claimed → `perform` starts (executor, Active Job)'
}.freeze

# Each job's latency in milliseconds, cut at its message's broker timestamp (LogAppendTime) and
# at the engine's stamps (trace lines "topic partition offset notified fetched woken claimed"):
# { stored: [...], fetched: [...], ... } per job, same order as `runs`.
def segments(topic, runs, trace)
  stored = {}
  PARTITIONS.times do |partition|
    count = Karafka::Admin.watermark_offsets(topic, partition).last
    Karafka::Admin.read_topic(topic, partition, count).each do |message|
      stored["#{topic}/#{partition}/#{message.offset}"] = message.timestamp.to_f
    end
  end
  engine = trace.lines.to_h do |line|
    name, partition, offset, *stamps = line.split
    ["#{name}/#{partition}/#{offset}", stamps.map { |stamp| stamp == 'NaN' ? nil : Float(stamp) }]
  end
  runs.map do |id, due_at, started|
    at = stored.fetch(id) { raise "no message #{id} for a job that ran" }
    notified, fetched, woken, claimed = engine.fetch(id) { raise "no engine stamps for #{id}" }
    raise "no fetch stamp for #{id}" unless fetched

    cuts = [due_at, at, notified, fetched, woken, claimed, started]
    SEGMENTS.keys.each_with_index.to_h { |name, i| [name, (cuts[i + 1] - cuts[i]) * 1000] }
  end
end

def ms(value)
  value.round(1).to_s
end

def pooled(results)
  results.flat_map { |r| r[:latency] }.sort
end

def cells(latency)
  [0.5, 0.9, 0.99, 0.999].map { |fraction| ms(percentile(latency, fraction)) } + [ms(latency.last)]
end

def row(server, rate, results)
  all = pooled(results)
  by_round = ->(fraction) { results.map { |r| percentile(r[:latency], fraction) } }
  p50s = by_round.call(0.5)
  p99s = by_round.call(0.99)
  achieved = results.map { |r| r[:rate] }.min
  "| #{rate.round} | #{server} | #{cells(all).join(' | ')} | #{ms(p50s.min)}–#{ms(p50s.max)} | " \
    "#{ms(p99s.min)}–#{ms(p99s.max)} | #{achieved.round} | #{ms(results.map { |r| r[:behind] }.max * 1000)} |"
end

# Where karafka-rs's time goes at one rate: p50 / p99 of each segment over every job of every
# round, and the mean of each segment over the jobs slower than the pooled p99.
def split_row(rate, results)
  jobs = results.flat_map { |r| r[:segments] }
  threshold = percentile(pooled(results), 0.99)
  slow = results.flat_map do |r|
    r[:segments].each_with_index.select { |_seg, i| (r[:runs][i][2] - r[:runs][i][1]) * 1000 > threshold }.map(&:first)
  end
  cells = SEGMENTS.keys.map do |name|
    values = jobs.map { |job| job[name] }.sort
    tail = slow.empty? ? 0 : slow.sum { |job| job[name] } / slow.size
    "#{ms(percentile(values, 0.5))} / #{ms(percentile(values, 0.99))} / #{ms(tail)}"
  end
  "| #{rate.round} | #{cells.join(' | ')} | #{slow.size} |"
end

def report(results, loads)
  servers = ['karafka-rs', ('karafka-rs variant' if VARIANT), ('Sidekiq' if SIDEKIQ)].compact
  rows = RATES.flat_map { |rate| servers.map { |server| row(server, rate, results[[server, rate]]) } }
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — end-to-end latency#{' vs Sidekiq' if SIDEKIQ} (`bench/latency.rb`)

    #{machine}#{"; #{sidekiq_versions}" if SIDEKIQ}; load average before each round: #{loads.join(' / ')}#{'; BENCH_HOG=1 (a child burns one core)' if HOG}#{producer_knobs}#{server_knobs}. #{ROUNDS} rounds; in each, every rate runs once on each server, the servers taking turns (a fresh server per run). #{SECONDS} s of `LateJob.perform_later` at each rate, latency = wall clock at `perform` start in the server − wall clock just before `perform_later`. karafka-rs: #{PARTITIONS} partitions, concurrency #{CONCURRENCY}, produce_async, boot file `bench/karafka.rb` (`max_wait_time` 100 ms), the gem's defaults otherwise#{"; Sidekiq: one queue, `-c #{CONCURRENCY}`, its defaults otherwise (BasicFetch)" if SIDEKIQ}.

    Percentiles in ms over every job of every round; "rounds" gives the lowest and highest p50 / p99 of a single round; "enqueued" is the lowest achieved rate, "behind" how far the enqueue loop fell behind its schedule at worst.

    | jobs/s | server | p50 | p90 | p99 | p99.9 | max | p50 rounds | p99 rounds | enqueued/s | behind ms |
    |---|---|---|---|---|---|---|---|---|---|---|
    #{rows.join("\n")}

    karafka-rs, where the time goes: each segment's p50 / p99 over every job, and its mean over the jobs slower than the pooled p99 (the tail), in ms. The broker's timestamp is truncated to the millisecond, so "→ stored" reads up to 1 ms short and "stored →" up to 1 ms long.

    | jobs/s | #{SEGMENTS.values.join(' | ')} | jobs in the tail |
    |---|#{'---|' * SEGMENTS.size}---|
    #{RATES.map { |rate| split_row(rate, results[['karafka-rs', rate]]) }.join("\n")}
    #{variant_note(results)}
  MD
end

def variant_note(results)
  return '' unless VARIANT

  rows = RATES.map { |rate| split_row(rate, results[['karafka-rs variant', rate]]) }
  "\nkarafka-rs variant (producer #{VARIANT_PRODUCER.inspect}, server #{VARIANT_SERVER.inspect}), the same split:\n\n" \
    "| jobs/s | #{SEGMENTS.values.join(' | ')} | jobs in the tail |\n|---|#{'---|' * SEGMENTS.size}---|\n#{rows.join("\n")}"
end

def server_knobs
  ENV['BENCH_KAFKA'] ? ", BENCH_KAFKA=#{ENV['BENCH_KAFKA']}" : ''
end

# The optional core burner: a bounded child (it exits after `seconds`), stopped at the end.
def with_hog(seconds)
  return yield unless HOG

  pid = Process.spawn(RbConfig.ruby, '-e', "t = Time.now + #{seconds}; nil while Time.now < t")
  begin
    yield
  ensure
    stop(pid)
  end
end

results = Hash.new { |hash, key| hash[key] = [] }
loads = []
with_hog((ROUNDS * RATES.size * (SECONDS + 15) * 2) + 60) do
  ROUNDS.times do
    loads << load_average
    RATES.each do |rate|
      results[['karafka-rs', rate]] << run_karafka(rate)
      results[['karafka-rs variant', rate]] << run_karafka(rate, variant: true) if VARIANT
      results[['Sidekiq', rate]] << run_sidekiq(rate) if SIDEKIQ
    end
  end
end
append_results(report(results, loads))
