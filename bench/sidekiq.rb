# frozen_string_literal: true

# karafka-rs next to Sidekiq (Debian's ruby-sidekiq 6.4 with a local redis-server), same job,
# same machine, one run: trivial jobs/s through each server, and enqueue throughput (best of
# three passes for each side).
# Usage: bench/setup (installs redis-server and ruby-sidekiq if missing); bench/redis start;
#        ruby bench/sidekiq.rb; bench/redis stop
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '50000'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
sidekiq_client! # bench/redis's Redis (REDIS_PORT), which this script flushes

def jobs_for(queue)
  Array.new(JOBS) { |i| BenchJob.new(i).tap { |job| job.queue_name = queue } }
end

# Runs a server child (`runner`: with_server or with_sidekiq, which stop it on a failure) until
# the job stamps first/last; returns steady jobs/s.
def steady_rate(stamps, runner)
  runner.call do |pid, _spawned|
    wait_for(File.join(stamps, 'last'), pid, 600)
    first, last = %w[first last].map { |name| Float(File.read(File.join(stamps, name))) }
    stop(pid)
    JOBS / (last - first)
  end
end

def timed
  started = now
  yield
  now - started
end

# Enqueue rates: best of three passes, each on fresh jobs (built untimed) after a full GC, as
# bench/enqueue.rb does: a single pass of a second or less swings by ±25% on this machine.
def best_rate(count, queue)
  Array.new(3) do
    jobs = jobs_for(queue).first(count)
    GC.start
    count / timed { yield jobs }
  end.max
end

# Enqueue rates, into `queue` (a scratch topic / queue nobody consumes).
def enqueue_rates(queue, &enqueue_all)
  { bulk_enqueue: best_rate(JOBS, queue, &enqueue_all),
    enqueue: best_rate(JOBS / 10, queue) { |jobs| jobs.each(&:enqueue) } }
end

def karafka_side
  topic = "bench_vs_sidekiq_#{RUN_ID}"
  [topic, "#{topic}_enqueue"].each { |name| Karafka::Admin.create_topic(name, 6) }
  rates = enqueue_rates("#{topic}_enqueue") do |jobs|
    ActiveJob.perform_all_later(jobs)
    Karafka.producer.flush
  end
  Karafka.producer.flush # (the single enqueues' deliveries)
  ActiveJob.perform_all_later(jobs_for(topic))
  Karafka.producer.flush
  stamps = Dir.mktmpdir
  env = { 'BENCH_TOPIC' => topic, 'BENCH_GROUP' => "#{topic}_g", 'BENCH_STAMP_DIR' => stamps,
          'BENCH_JOBS' => JOBS.to_s, 'BENCH_CONCURRENCY' => CONCURRENCY.to_s }
  rates.merge(run: steady_rate(stamps, ->(&run) { with_server(env, File::NULL, &run) }))
ensure
  [topic, "#{topic}_enqueue"].each { |name| Karafka::Admin.delete_topic(name) }
end

def sidekiq_side
  queue = "bench_#{RUN_ID}"
  ActiveJob::Base.queue_adapter = :sidekiq
  Sidekiq.redis(&:flushdb)
  # sidekiq_push_all serializes the jobs, as perform_all_later does above.
  rates = enqueue_rates("#{queue}_enqueue") { |jobs| sidekiq_push_all(jobs) }
  sidekiq_push_all(jobs_for(queue))
  stamps = Dir.mktmpdir
  env = { 'BENCH_STAMP_DIR' => stamps, 'BENCH_JOBS' => JOBS.to_s }
  rates.merge(run: steady_rate(stamps, ->(&run) { with_sidekiq(env, queue, CONCURRENCY, File::NULL, &run) }))
ensure
  Sidekiq.redis(&:flushdb)
  ActiveJob::Base.queue_adapter = :karafka
end

ours = karafka_side
theirs = sidekiq_side
rows = { run: 'trivial jobs/s through the server (6 partitions / 1 queue)',
         enqueue: '`perform_later`, one job per call (async produce / Redis push)',
         bulk_enqueue: '`perform_all_later` (produce_many_async / `push_bulk`)' }
table = rows.map do |key, label|
  format('| %<l>s | %<a>.0f | %<b>.0f | %<r>.2f |', l: label, a: ours[key], b: theirs[key], r: ours[key] / theirs[key])
end
append_results(<<~MD)
  ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M')} UTC — karafka-rs vs Sidekiq (bench/sidekiq.rb)

  #{machine}; #{sidekiq_versions}; N = #{JOBS}, concurrency #{CONCURRENCY}; load #{load_average}.

  | measurement | karafka-rs | Sidekiq | ratio |
  |---|---|---|---|
  #{table.join("\n")}
MD
