# frozen_string_literal: true

# I/O-bound jobs (each one waits 5 ms) at concurrency C: karafka-rs with C partitions and
# `concurrency = C` (bench/io_bound.rb's measurement (a), reused as is) next to Sidekiq with
# `-c C` on one queue, same job (IoJob), same N, same run. Ideal: C x 200 jobs/s.
# Usage (repo root): bench/redis start; ruby bench/sidekiq_io.rb; bench/redis stop
# See bench/README.md; results are appended to bench/results/YYYY-MM.md.
require_relative 'io_bound'

sidekiq_client!

# N IoJobs pushed to a fresh queue before `sidekiq` starts, as the karafka-rs side has them in
# its topic before `karafka server` starts.
def measure_sidekiq(concurrency)
  n = jobs_for(concurrency)
  queue = "bench_io_#{RUN_ID}_sidekiq#{concurrency}"
  sidekiq_push_all(Array.new(n) { |index| IoJob.new(index, 0).tap { |job| job.queue_name = queue } })
  queued = Sidekiq::Queue.new(queue).size
  raise "pushed #{queued} jobs, expected #{n}" unless queued == n

  Dir.mktmpdir('karafka_rs_sidekiq_io') do |dir|
    stats = File.join(dir, 'stats.json')
    redis_cores = cores_since(redis_pid)
    env = { 'BENCH_JOBS' => n.to_s, 'BENCH_STATS' => stats }
    with_sidekiq(env, queue, concurrency, File.join(dir, 'sidekiq.log')) do |pid, spawned|
      wait_for(stats, pid, TIMEOUT)
      done = now
      redis = redis_cores.call(done - spawned)
      run_figures(stats, n, pid, spawned, done).merge(broker_cores: redis)
    end
  end
ensure
  Sidekiq::Queue.new(queue).clear # nothing left behind if the run failed
end

def summary_row(concurrency, ours, theirs)
  cells = [ours, theirs].map { |r| "#{r[:rate].round} | #{ratio(r[:rate], concurrency)}" }
  "| #{concurrency} | #{jobs_for(concurrency)} | #{ideal(concurrency).round} | #{cells.join(' | ')} | " \
    "#{(theirs[:rate] / ours[:rate]).round(2)} |"
end

def detail_row(concurrency, label, r)
  "| #{concurrency} | #{label} | #{r[:job_ms].round(3)} | #{r[:gap_ms].round(3)} | #{r[:busy_workers].round(2)} | " \
    "#{r[:cpu_us].round} | #{r[:switches].round(1)} | #{r[:cores].round(2)} | #{r[:broker_cores]&.round(2)} | " \
    "#{r[:boot].round(2)} s | #{r[:exit].inspect} |"
end

def comparison(runs)
  summary = runs.map { |c, (ours, theirs)| summary_row(c, ours, theirs) }
  details = runs.flat_map { |c, (ours, theirs)| [detail_row(c, 'karafka-rs', ours), detail_row(c, 'Sidekiq', theirs)] }
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')}: I/O-bound jobs, karafka-rs vs Sidekiq (`bench/sidekiq_io.rb`)

    #{machine}; #{sidekiq_versions}; load average before #{LOAD_BEFORE}; each job sleeps #{(IoJob::WAIT * 1000).round} ms; N = max(2, C) x #{PER_C} jobs, all enqueued before the server starts. karafka-rs: C partitions, `concurrency = C` (io_bound.rb's (a)); Sidekiq: one queue, `-c C`; defaults otherwise.

    | C | N | ideal jobs/s | karafka-rs jobs/s | karafka-rs ratio | Sidekiq jobs/s | Sidekiq ratio | Sidekiq / karafka-rs |
    |---|---|---|---|---|---|---|---|
    #{summary.join("\n")}

    | C | server | job time ms | gap ms | busy workers | server CPU us/job | ctx switches/job | server cores | broker / Redis cores | boot | exit |
    |---|---|---|---|---|---|---|---|---|---|---|
    #{details.join("\n")}
  MD
end

LOAD_BEFORE = load_average
runs = CONCURRENCY.to_h do |c|
  ours = measure(c, :partitions).tap { |r| progress(c, 'karafka-rs, C partitions', r) }
  theirs = measure_sidekiq(c).tap { |r| progress(c, "Sidekiq -c #{c}", r) }
  [c, [ours, theirs]]
end
append_results(comparison(runs))
