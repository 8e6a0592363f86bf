# frozen_string_literal: true

# Enqueue throughput of the :karafka adapter against a real broker, next to the cost of
# serializing the jobs alone. Usage (repo root, after `bin/kafka start`): ruby bench/enqueue.rb
# See bench/README.md for what is measured; results are appended to bench/RESULTS.md.
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '50000'))
PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '6'))
WARM_UP = 200 # jobs per path, not timed (but produced: counted in the watermark check)

# Same job, other dispatch methods.
class SyncBenchJob < BenchJob
  karafka_options(dispatch_method: :produce_sync)
end

class SyncManyBenchJob < BenchJob
  karafka_options(dispatch_many_method: :produce_many_sync)
end

# Seconds the block takes, after a full GC so that no path pays for the previous one's garbage.
def timed
  GC.start
  started = now
  yield
  now - started
end

# [label, jobs, block(count) => [seconds enqueueing, seconds flushing]]
PATHS = [
  ['(i) `perform_later`, `produce_async` (default), then flush', JOBS, lambda do |count|
    [timed { count.times { |i| BenchJob.perform_later(i) } }, timed { Karafka.producer.flush }]
  end],
  ['(ii) `perform_later`, `dispatch_method: :produce_sync`', JOBS / 10, lambda do |count|
    [timed { count.times { |i| SyncBenchJob.perform_later(i) } }, 0.0]
  end],
  ['(iii) `perform_all_later`, `produce_many_async` (default), then flush', JOBS, lambda do |count|
    [timed { ActiveJob.perform_all_later(Array.new(count) { |i| BenchJob.new(i) }) }, timed { Karafka.producer.flush }]
  end],
  ['(iv) `perform_all_later`, `dispatch_many_method: :produce_many_sync`', JOBS, lambda do |count|
    [timed { ActiveJob.perform_all_later(Array.new(count) { |i| SyncManyBenchJob.new(i) }) }, 0.0]
  end]
].freeze

# (ref) The Ruby work every path does too: build the job and turn it into its payload. Best of
# three passes (the first one also warms up).
def reference
  Array.new(3) { JOBS / timed { JOBS.times { |i| JSON.generate(BenchJob.new(i).serialize) } } }.max
end

def report(ref, runs, spread)
  rows = runs.map do |label, count, enqueue, flush|
    total = enqueue + flush
    "| #{label} | #{count} | #{(count / total).round} | #{(count / total / ref).round(3)} | " \
      "#{enqueue.round(3)} s | #{flush.round(3)} s |"
  end
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — enqueue (`bench/enqueue.rb`)

    #{machine}; N = #{JOBS} jobs, #{PARTITIONS} partition(s), #{WARM_UP} untimed warm-up jobs per path; load average before the run #{LOAD}#{producer_knobs}.

    | measurement | jobs | jobs/s | ratio | enqueue | flush |
    |---|---|---|---|---|---|
    | (ref) `JSON.generate(BenchJob.new(i).serialize)` loop | #{JOBS} | #{ref.round} | 1.0 | #{(JOBS / ref).round(3)} s | |
    #{rows.join("\n")}

    - messages per partition (high watermarks, warm-ups included): #{spread.inspect}, #{spread.sum} in all as produced
  MD
end

LOAD = load_average
topic = "bench_enqueue_#{RUN_ID}"
Karafka::Admin.create_topic(topic, PARTITIONS)
begin
  BenchJob.queue_as(topic)
  ref = reference
  puts "(ref) serialize only: #{ref.round} jobs/s"
  PATHS.each { |_, _, path| path.call(WARM_UP) }
  runs = PATHS.map do |label, count, path|
    enqueue, flush = path.call(count)
    puts "#{label}: #{(count / (enqueue + flush)).round} jobs/s (#{(count / (enqueue + flush) / ref).round(3)} of ref)"
    [label, count, enqueue, flush]
  end
  Karafka.producer.flush
  spread = Array.new(PARTITIONS) { |partition| Karafka::Admin.watermark_offsets(topic, partition).last }
  produced = PATHS.sum { |_, count, _| count + WARM_UP }
  raise "the topic holds #{spread.sum} messages, #{produced} were enqueued" unless spread.sum == produced

  append_results(report(ref, runs, spread))
ensure
  Karafka::Admin.delete_topic(topic)
end
