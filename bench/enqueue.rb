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

# An adapter that drops every job: what `perform_later` costs in Active Job itself.
class NullAdapter
  def enqueue(_job); end
  def enqueue_at(_job, _timestamp); end
end

# (ref, Active Job) `perform_later` through Active Job's own enqueue path (callbacks,
# instrumentation, logging) into NullAdapter: the floor for (i) and (ii) on this Rails.
def active_job_reference
  job_class = Class.new(BenchJob) { self.queue_adapter = NullAdapter.new }
  Array.new(3) { JOBS / timed { JOBS.times { |i| job_class.perform_later(i) } } }.max
end

# (ref, bulk) The same work shaped as a bulk call needs it: the array of jobs exists first,
# and every payload is kept until the one call. More objects live at once, so Ruby's GC works
# harder than in (ref) (major collections): this is the floor for (iii) and (iv).
def bulk_reference
  Array.new(3) do
    JOBS / timed { Array.new(JOBS) { |i| BenchJob.new(i) }.map { |job| JSON.generate(job.serialize) } }
  end.max
end

def report(refs, runs, spread)
  ref, aj_ref, bulk_ref = refs.values_at(:ref, :active_job, :bulk)
  rows = runs.map do |label, count, enqueue, flush|
    rate = count / (enqueue + flush)
    floor = (rate / (label.include?('perform_all_later') ? bulk_ref : aj_ref)).round(3)
    "| #{label} | #{count} | #{rate.round} | #{(rate / ref).round(3)} | #{floor} | " \
      "#{enqueue.round(3)} s | #{flush.round(3)} s |"
  end
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — enqueue (`bench/enqueue.rb`)

    #{machine}; N = #{JOBS} jobs, #{PARTITIONS} partition(s), #{WARM_UP} untimed warm-up jobs per path; load average before the run #{LOAD}#{producer_knobs}.

    | measurement | jobs | jobs/s | ratio to (ref) | ratio to its floor | enqueue | flush |
    |---|---|---|---|---|---|---|
    | (ref) `JSON.generate(BenchJob.new(i).serialize)` loop | #{JOBS} | #{ref.round} | 1.0 | | #{(JOBS / ref).round(3)} s | |
    | (ref, Active Job) `perform_later` into an adapter that drops the job: the floor of (i), (ii) | #{JOBS} | #{aj_ref.round} | #{(aj_ref / ref).round(3)} | 1.0 | #{(JOBS / aj_ref).round(3)} s | |
    | (ref, bulk) the jobs array first, then every payload kept: the floor of (iii), (iv) | #{JOBS} | #{bulk_ref.round} | #{(bulk_ref / ref).round(3)} | 1.0 | #{(JOBS / bulk_ref).round(3)} s | |
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
  refs = { ref: ref, active_job: active_job_reference, bulk: bulk_reference }
  puts "(ref, Active Job) perform_later into a null adapter: #{refs[:active_job].round} jobs/s"
  puts "(ref, bulk) serialize only, as a bulk call: #{refs[:bulk].round} jobs/s"
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

  append_results(report(refs, runs, spread))
ensure
  Karafka::Admin.delete_topic(topic)
end
