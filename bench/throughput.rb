# frozen_string_literal: true

# Job throughput of karafka-rs against a real broker, next to the limit of Ruby itself.
# Usage (repo root, after `rake compile` and `bin/kafka start`): ruby bench/throughput.rb
# See bench/README.md for what is measured; results are appended to bench/RESULTS.md.
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '50000'))
PARTITIONS = ENV.fetch('BENCH_PARTITIONS', '1,6').split(',').map { |count| Integer(count) }
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '600')) # seconds per server run

# (a) The same work without Kafka: deserialize and run each job in a tight loop. Best of
# three passes (the first one also warms up): this is a ceiling.
def ruby_limit(payloads)
  Array.new(3) do
    started = now
    payloads.each { |payload| ActiveJob::Base.execute(JSON.parse(payload)) }
    payloads.size / (now - started)
  end.max
end

# (b) Enqueue every job, then time a `karafka server` child until it has run them all.
def karafka_rs(jobs, partitions)
  topic = group = "bench_throughput_#{RUN_ID}_p#{partitions}"
  Karafka::Admin.create_topic(topic, partitions)
  jobs.each { |job| job.queue_name = topic }
  started = now
  ActiveJob.perform_all_later(jobs)
  Karafka.producer.flush
  enqueue_rate = jobs.size / (now - started)
  spread = Array.new(partitions) { |partition| Karafka::Admin.watermark_offsets(topic, partition).last }
  raise "produced #{spread.sum} messages, expected #{jobs.size}" unless spread.sum == jobs.size

  Dir.mktmpdir('karafka_rs_bench') do |dir|
    result = serve(topic, group, dir)
    first, last = %w[first last].map { |name| Float(File.read(File.join(dir, name))) }
    result.merge(partitions: partitions, spread: spread, enqueue_rate: enqueue_rate,
                 boot: first - result[:spawned], total: last - result[:spawned],
                 with_boot: jobs.size / (last - result[:spawned]), steady: (jobs.size - 1) / (last - first),
                 commit_seen: result[:committed] - last)
  end
ensure
  Karafka::Admin.delete_topic(topic)
end

def serve(topic, group, dir)
  with_server(server_env(topic, dir, JOBS, group: group), File.join(dir, 'server.log')) do |pid, spawned|
    committed = wait_for_commits(group, topic, JOBS, pid, spawned + TIMEOUT)
    cpu = cpu_seconds(pid)
    { spawned: spawned, committed: committed, cpu: cpu, cores: cpu / (committed - spawned), exit: stop(pid) }
  end
end

def knobs
  set = ENV.slice('BENCH_MAX_MESSAGES', 'BENCH_KAFKA').map { |name, value| "#{name}=#{value}" }
  set.empty? ? '' : ", #{set.join(', ')}"
end

def report(limit, runs)
  rows = runs.map do |r|
    "| (b) karafka-rs, #{r[:partitions]} partition(s) | #{r[:steady].round} | #{r[:with_boot].round} | " \
      "#{(r[:steady] / limit).round(3)} | #{(r[:with_boot] / limit).round(3)} | #{r[:boot].round(2)} s | " \
      "#{r[:total].round(2)} s | #{r[:cores].round(2)} | #{r[:enqueue_rate].round} |"
  end
  notes = runs.map do |r|
    "- #{r[:partitions]} partition(s): jobs per partition #{r[:spread].inspect}; commits seen " \
      "#{(r[:commit_seen] * 1000).round} ms after the last job; server exit status #{r[:exit].inspect}"
  end
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')}

    #{machine}; N = #{JOBS} jobs, concurrency #{CONCURRENCY}#{knobs}.

    | measurement | steady jobs/s | incl. boot jobs/s | ratio steady | ratio incl. boot | boot | total | server cores | enqueue jobs/s |
    |---|---|---|---|---|---|---|---|---|
    | (a) Ruby limit: `execute(JSON.parse(payload))` loop | #{limit.round} | | 1.0 | | | #{(JOBS / limit).round(2)} s | | |
    #{rows.join("\n")}

    #{notes.join("\n")}
  MD
end

jobs = Array.new(JOBS) { |index| BenchJob.new(index) }
limit = ruby_limit(jobs.map { |job| JSON.generate(job.serialize) })
puts "(a) Ruby limit: #{limit.round} jobs/s"
runs = PARTITIONS.map do |partitions|
  karafka_rs(jobs, partitions).tap do |r|
    puts "(b) karafka-rs, #{partitions} partition(s): #{r[:steady].round} jobs/s steady " \
         "(#{(r[:steady] / limit).round(3)} of (a)), #{r[:with_boot].round} jobs/s incl. " \
         "#{r[:boot].round(2)} s boot (#{(r[:with_boot] / limit).round(3)} of (a))"
  end
end
append_results(report(limit, runs))
