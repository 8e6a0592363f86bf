# frozen_string_literal: true

# End-to-end latency at a steady enqueue rate, karafka-rs next to Sidekiq in the same run:
# bench/latency.rb's measurement (its `run`, then the same probe / enqueue loop / percentiles
# against a `sidekiq` child with the same concurrency).
# Usage (repo root): bench/redis start; ruby bench/sidekiq_latency.rb; bench/redis stop
# See bench/README.md; results are appended to bench/RESULTS.md.
require_relative 'latency'

sidekiq_client!

# The same LateJob through Active Job's :sidekiq adapter (`perform_later` = one LPUSH, which
# returns once Redis has the job), to a fresh queue.
def run_sidekiq
  queue = "bench_latency_#{RUN_ID}"
  LateJob.queue_adapter = :sidekiq
  LateJob.queue_as(queue)
  Dir.mktmpdir('karafka_rs_sidekiq_latency') do |dir|
    env = { 'BENCH_STAMP_DIR' => dir, 'BENCH_JOBS' => JOBS.to_s }
    with_sidekiq(env, queue, CONCURRENCY, File.join(dir, 'sidekiq.log')) do |pid, spawned|
      measure_latency(dir, pid, spawned)
    end
  end
ensure
  LateJob.queue_adapter = :karafka
  Sidekiq::Queue.new(queue).clear # nothing left behind if the run failed
end

def comparison(ours, theirs)
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — end-to-end latency, karafka-rs vs Sidekiq (`bench/sidekiq_latency.rb`)

    #{machine}; #{sidekiq_versions}; load average before #{LOAD_BEFORE}; target #{RATE.round} jobs/s for #{SECONDS} s (#{JOBS} `LateJob.perform_later` each), latency = wall clock at `perform` start in the server − wall clock just before `perform_later`. karafka-rs: #{PARTITIONS} partitions, concurrency #{CONCURRENCY}, produce_async, boot file `bench/karafka.rb` (`max_wait_time` 100 ms); Sidekiq: one queue, `-c #{CONCURRENCY}`, Sidekiq's defaults otherwise (BasicFetch: each thread blocks in BRPOP, 2 s timeout).

    | server | jobs | achieved enqueue rate | p50 | p90 | p99 | p99.9 | max | min |
    |---|---|---|---|---|---|---|---|---|
    | karafka-rs #{latency_cells(ours)}
    | Sidekiq #{latency_cells(theirs)}

    - karafka-rs distribution: #{distribution(ours)}
    - karafka-rs #{split_note(ours)}
    - Sidekiq distribution: #{distribution(theirs)}
    - karafka-rs: #{run_notes(ours)}
    - Sidekiq: #{run_notes(theirs)}
  MD
end

ours = run
theirs = run_sidekiq
append_results(comparison(ours, theirs))
