# frozen_string_literal: true

# karafka-rs next to Sidekiq (Debian's ruby-sidekiq 6.4 with a local redis-server), same job,
# same machine, one run: trivial jobs/s through each server, and enqueue throughput.
# Usage: apt-get install redis-server ruby-sidekiq; bench/redis start;
#        ruby bench/sidekiq.rb; bench/redis stop
require_relative 'support'
require 'sidekiq'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '50000'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
REDIS_URL = ENV.fetch('REDIS_URL', "redis://127.0.0.1:#{ENV.fetch('REDIS_PORT', '6390')}/0")
Sidekiq.configure_client { |config| config.redis = { url: REDIS_URL } }

def jobs_for(queue)
  Array.new(JOBS) { |i| BenchJob.new(i).tap { |job| job.queue_name = queue } }
end

# Runs `spawn` (a server child) until the job stamps first/last; returns steady jobs/s.
def steady_rate(stamps, spawn)
  pid = spawn.call
  deadline = now + 600
  sleep 0.05 until File.exist?(File.join(stamps, 'last')) || now > deadline # polling, with a deadline
  first, last = %w[first last].map { |name| Float(File.read(File.join(stamps, name))) }
  stop(pid)
  JOBS / (last - first)
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
  rate = steady_rate(stamps, -> { spawn_server(env, File::NULL) })
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
  wrapper = ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper
  payloads = jobs_for(queue).map { |job| [job.serialize] }
  # Sidekiq's bulk path (what perform_all_later uses in Rails 7.1+).
  bulk = JOBS / timed { payloads.each_slice(1_000) { |args| Sidekiq::Client.push_bulk('class' => wrapper, 'wrapped' => 'BenchJob', 'queue' => queue, 'args' => args) } }
  stamps = Dir.mktmpdir
  env = { 'REDIS_URL' => REDIS_URL, 'BENCH_STAMP_DIR' => stamps, 'BENCH_JOBS' => JOBS.to_s }
  command = ['sidekiq', '-r', File.join(__dir__, 'sidekiq_boot.rb'), '-c', CONCURRENCY.to_s, '-q', queue]
  rate = steady_rate(stamps, -> { Process.spawn(env, *command, chdir: ROOT, %i[out err] => File::NULL) })
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

  #{machine}; Sidekiq #{Sidekiq::VERSION}, Redis on loopback; N = #{JOBS}, concurrency #{CONCURRENCY}; load #{load_average}.

  | measurement | karafka-rs | Sidekiq | ratio |
  |---|---|---|---|
  #{table.join("\n")}
MD
