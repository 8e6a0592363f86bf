# frozen_string_literal: true

# karafka-rs next to Sidekiq (Debian's ruby-sidekiq 6.4 with a local redis-server), same job,
# same machine, one run: trivial jobs/s through each server, and enqueue throughput.
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

def karafka_side
  topic = "bench_vs_sidekiq_#{RUN_ID}"
  Karafka::Admin.create_topic(topic, 6)
  jobs = jobs_for(topic)
  enqueue = JOBS / timed do
    ActiveJob.perform_all_later(jobs)
    Karafka.producer.flush
  end
  stamps = Dir.mktmpdir
  env = { 'BENCH_TOPIC' => topic, 'BENCH_GROUP' => "#{topic}_g", 'BENCH_STAMP_DIR' => stamps,
          'BENCH_JOBS' => JOBS.to_s, 'BENCH_CONCURRENCY' => CONCURRENCY.to_s }
  rate = steady_rate(stamps, ->(&run) { with_server(env, File::NULL, &run) })
  singles = jobs_for(topic).first(JOBS / 10)
  single = singles.size / timed do
    singles.each(&:enqueue)
    Karafka.producer.flush
  end
  Karafka::Admin.delete_topic(topic)
  { run: rate, bulk_enqueue: enqueue, enqueue: single }
end

def sidekiq_side
  queue = "bench_#{RUN_ID}"
  ActiveJob::Base.queue_adapter = :sidekiq
  Sidekiq.redis(&:flushdb)
  jobs = jobs_for(queue)
  bulk = JOBS / timed { sidekiq_push_all(jobs) } # serializes them, as perform_all_later does above
  stamps = Dir.mktmpdir
  env = { 'BENCH_STAMP_DIR' => stamps, 'BENCH_JOBS' => JOBS.to_s }
  rate = steady_rate(stamps, ->(&run) { with_sidekiq(env, queue, CONCURRENCY, File::NULL, &run) })
  singles = jobs_for(queue).first(JOBS / 10)
  single = singles.size / timed { singles.each(&:enqueue) }
  Sidekiq.redis(&:flushdb)
  { run: rate, bulk_enqueue: bulk, enqueue: single }
ensure
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
