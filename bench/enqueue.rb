# frozen_string_literal: true

# Enqueue throughput of the :karafka adapter against a real broker, next to the cost of
# serializing the jobs alone. Usage (repo root, after `bin/kafka start`): ruby bench/enqueue.rb
# See bench/README.md for what is measured; results are appended to bench/results/YYYY-MM.md.
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '100000'))
ROUNDS = Integer(ENV.fetch('BENCH_ROUNDS', '3'))
PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '6'))
WARM_UP = 200 # jobs per path, not timed (but produced: counted in the watermark check)
SYNC_JOBS = [JOBS / 50, 1].max # a broker round trip per job: fewer of them

# Same job, other dispatch methods.
class SyncBenchJob < BenchJob
  karafka_options(dispatch_method: :produce_sync)
end

class SyncManyBenchJob < BenchJob
  karafka_options(dispatch_many_method: :produce_many_sync)
end

# An adapter that drops every job: what `perform_later` costs in Active Job itself.
class NullAdapter
  def enqueue(_job); end
  def enqueue_at(_job, _timestamp); end
end

# An adapter whose transport costs nothing: it builds every payload, as the :karafka adapter
# does, and drops it. One enqueue path of Active Job into it is the floor of the same path
# into Kafka.
class SerializeOnlyAdapter
  def enqueue(job)
    JSON.generate(job.serialize)
  end

  def enqueue_at(job, _timestamp)
    enqueue(job)
  end

  # perform_all_later's call: every payload is built (and alive) before the one call.
  def enqueue_all(jobs)
    jobs.map { |job| JSON.generate(job.serialize) }.size
  end
end

ActiveJobOnlyJob = Class.new(BenchJob) { self.queue_adapter = NullAdapter.new }
SerializeOnlyJob = Class.new(BenchJob) { self.queue_adapter = SerializeOnlyAdapter.new }

# [seconds enqueueing, seconds flushing], after a full GC so that no path pays for the
# previous one's garbage. The flush follows at once: a GC in between would let librdkafka
# deliver meanwhile, unmeasured.
def timed(flush: false)
  GC.start
  started = now
  yield
  enqueued = now
  Karafka.producer.flush if flush
  [enqueued - started, now - enqueued]
end

def perform_later_path(job_class)
  ->(count) { count.times { |i| job_class.perform_later(i) } }
end

def perform_all_later_path(job_class)
  ->(count) { ActiveJob.perform_all_later(Array.new(count) { |i| job_class.new(i) }) }
end

# `run` enqueues `count` jobs; `flush` adds the wait for their delivery (async paths).
Path = Struct.new(:key, :label, :count, :run, :flush, :floor, :kafka, keyword_init: true)

# (ref...) rows are references; their `floor` is nil. Kafka paths name the reference that
# is the same call with a transport that costs nothing.
PATHS = [
  Path.new(key: :ref, label: '(ref) `JSON.generate(BenchJob.new(i).serialize)` loop', count: JOBS,
           run: ->(count) { count.times { |i| JSON.generate(BenchJob.new(i).serialize) } }),
  Path.new(key: :active_job, label: '(ref, Active Job) `perform_later` into an adapter that drops the job',
           count: JOBS, run: perform_later_path(ActiveJobOnlyJob)),
  Path.new(key: :serialize_only, label: '(ref, serialize-only) `perform_later` into an adapter that only ' \
                                        'builds the payload: the floor of (i), (ii)',
           count: JOBS, run: perform_later_path(SerializeOnlyJob)),
  Path.new(key: :bulk, label: '(ref, bulk serialize-only) `perform_all_later` into that adapter: the floor ' \
                              'of (iii), (iv)',
           count: JOBS, run: perform_all_later_path(SerializeOnlyJob)),
  Path.new(key: :async, label: '(i) `perform_later`, `produce_async` (default), then flush', count: JOBS,
           run: perform_later_path(BenchJob), flush: true, floor: :serialize_only, kafka: true),
  Path.new(key: :sync, label: '(ii) `perform_later`, `dispatch_method: :produce_sync`', count: SYNC_JOBS,
           run: perform_later_path(SyncBenchJob), floor: :serialize_only, kafka: true),
  Path.new(key: :all_async, label: '(iii) `perform_all_later`, `produce_many_async` (default), then flush',
           count: JOBS, run: perform_all_later_path(BenchJob), flush: true, floor: :bulk, kafka: true),
  Path.new(key: :all_sync, label: '(iv) `perform_all_later`, `dispatch_many_method: :produce_many_sync`',
           count: JOBS, run: perform_all_later_path(SyncManyBenchJob), floor: :bulk, kafka: true)
].freeze

# Every path runs once per round, in turn, and its times add up over the rounds: this VM's
# speed drifts by tens of percent within a minute, and interleaving spreads the slow and the
# fast moments over all paths instead of letting them land on one.
def measure
  PATHS.each { |path| timed(flush: path.flush) { path.run.call(WARM_UP) } }
  totals = PATHS.to_h { |path| [path.key, [0.0, 0.0]] }
  ROUNDS.times do
    PATHS.each do |path|
      enqueue, flush = timed(flush: path.flush) { path.run.call(path.count) }
      totals[path.key][0] += enqueue
      totals[path.key][1] += flush
    end
  end
  totals
end

def rate(path, totals)
  path.count * ROUNDS / totals[path.key].sum
end

def report(totals, spread)
  rates = PATHS.to_h { |path| [path.key, rate(path, totals)] }
  rows = PATHS.map do |path|
    enqueue, flush = totals[path.key]
    floor = path.floor ? (rates[path.key] / rates[path.floor]).round(3) : ''
    "| #{path.label} | #{path.count} × #{ROUNDS} | #{rates[path.key].round} | " \
      "#{(rates[path.key] / rates[:ref]).round(3)} | #{floor} | #{enqueue.round(3)} s | " \
      "#{path.flush ? "#{flush.round(3)} s" : ''} |"
  end
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — enqueue (`bench/enqueue.rb`)

    #{machine}; #{ROUNDS} interleaved rounds, each path once per round (jobs column: per round × rounds), #{PARTITIONS} partition(s), #{WARM_UP} untimed warm-up jobs per path; load average before the run #{LOAD}#{producer_knobs}.

    | measurement | jobs | jobs/s | ratio to (ref) | ratio to its serialize-only floor | enqueue | flush |
    |---|---|---|---|---|---|---|
    #{rows.join("\n")}

    - messages per partition (high watermarks, warm-ups included): #{spread.inspect}, #{spread.sum} in all as produced
  MD
end

LOAD = load_average
topic = "bench_enqueue_#{RUN_ID}"
Karafka::Admin.create_topic(topic, PARTITIONS)
begin
  [BenchJob, ActiveJobOnlyJob, SerializeOnlyJob].each { |job_class| job_class.queue_as(topic) }
  totals = measure
  PATHS.each do |path|
    puts "#{path.label}: #{rate(path, totals).round} jobs/s (#{(rate(path, totals) / rate(PATHS.first, totals)).round(3)} of ref)"
  end
  Karafka.producer.flush
  spread = Array.new(PARTITIONS) { |partition| Karafka::Admin.watermark_offsets(topic, partition).last }
  produced = PATHS.select(&:kafka).sum { |path| (path.count * ROUNDS) + WARM_UP }
  raise "the topic holds #{spread.sum} messages, #{produced} were enqueued" unless spread.sum == produced

  append_results(report(totals, spread))
  write_summary(paths: PATHS.to_h do |path|
    [path.key, { jobs_per_s: rate(path, totals), ratio: rate(path, totals) / rate(PATHS.first, totals),
                 floor_ratio: path.floor && (rate(path, totals) / rate(PATHS.find { |f| f.key == path.floor }, totals)) }]
  end)
ensure
  Karafka::Admin.delete_topic(topic)
end
