# frozen_string_literal: true

# `karafka swarm` (BENCH_NODES nodes, default 2) against one `karafka server`, side by side in
# one run: trivial jobs (BenchJob) on a 12-partition topic, alternating the two for
# BENCH_ROUNDS rounds (default 2), each run on a fresh topic with a fresh consumer group.
# Usage (repo root, after `rake compile` and `bin/kafka start`): ruby bench/swarm.rb
# (BENCH_JOBS=5000 BENCH_ROUNDS=1 for a smoke test). Results are appended to bench/RESULTS.md.
#
# Each run starts its consumers on the empty topic, waits until every partition is owned (the
# group is stable: no rebalance during the measurement), then enqueues N jobs and times from the
# enqueue until the N-th job ran (progress files the consuming processes write, see
# bench/swarm_karafka.rb). Enqueueing (perform_all_later, ~0.5 s per 50,000 jobs) overlaps the
# run in both modes alike.
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '100000'))
NODES = Integer(ENV.fetch('BENCH_NODES', '2'))
PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '12'))
ROUNDS = Integer(ENV.fetch('BENCH_ROUNDS', '2'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '300'))

def spawn_consumer(mode, topic, group, dir)
  env = { 'KARAFKA_BOOT_FILE' => File.join(__dir__, 'swarm_karafka.rb'), 'BENCH_TOPIC' => topic, 'BENCH_GROUP' => group,
          'BENCH_CONCURRENCY' => CONCURRENCY.to_s, 'BENCH_NODES' => NODES.to_s, 'BENCH_PROGRESS_DIR' => dir,
          'BENCH_JOBS' => JOBS.to_s }
  Process.spawn(env, RbConfig.ruby, '-Ilib', 'exe/karafka', mode, chdir: ROOT, %i[out err] => File.join(dir, 'log'))
end

def progress(dir, prefix)
  Dir[File.join(dir, "#{prefix}-*")].reject { |path| path.end_with?('.tmp') }.to_h do |path|
    [Integer(path[/-(\d+)\z/, 1]), File.read(path)]
  end
end

# Every partition owned, by `processes` processes (the group is stable).
def wait_until_stable(dir, processes, pid)
  deadline = now + 120
  loop do
    owned = progress(dir, 'assigned').transform_values { |text| text.split("\n") }.reject { |_, parts| parts.empty? }
    return owned.keys if owned.size == processes && owned.values.sum(&:size) == PARTITIONS
    raise "the #{processes == 1 ? 'server' : 'swarm'} exited early:\n#{File.read(File.join(dir, 'log'))}" if Process.waitpid(pid, Process::WNOHANG)
    raise "no stable group after 120 s:\n#{File.read(File.join(dir, 'log'))}" if now > deadline

    sleep 0.05 # polling interval, with a deadline
  end
end

def run(mode, round)
  topic = "bench_swarm_#{RUN_ID}_#{mode}_#{round}"
  Karafka::Admin.create_topic(topic, PARTITIONS)
  jobs = Array.new(JOBS) { |index| BenchJob.new(index).tap { |job| job.queue_name = topic } }
  Dir.mktmpdir("karafka_rs_bench_#{mode}") do |dir|
    pid = spawn_consumer(mode, topic, topic, dir)
    begin
      processes = mode == 'swarm' ? NODES : 1
      consumers = wait_until_stable(dir, processes, pid)
      cpu_before = consumers.sum { |consumer| cpu_seconds(consumer) }
      started = now
      ActiveJob.perform_all_later(jobs)
      Karafka.producer.flush
      enqueued = now - started
      finished = wait_for_jobs(dir, pid, started)
      rss = consumers.to_h { |consumer| [consumer, memory_mib(consumer).round(1)] }
      pss = (consumers + (mode == 'swarm' ? [pid] : [])).sum { |process| pss_mib(process) }
      { mode: mode, rate: JOBS / (finished - started), seconds: finished - started, enqueued: enqueued,
        rss: rss, pss: pss.round(1), supervisor_rss: mode == 'swarm' ? memory_mib(pid).round(1) : nil,
        cores: (consumers.sum { |consumer| cpu_seconds(consumer) } - cpu_before) / (finished - started),
        per_process: progress(dir, 'count').values.map { |text| Integer(text.split.first) } }
    ensure
      status = stop(pid)
      warn "#{mode} exit status #{status.inspect}" unless status.nil? || status.zero?
    end
  end
ensure
  Karafka::Admin.delete_topic(topic)
end

# @return [Float] monotonic time of the N-th job (the latest process' last job)
def wait_for_jobs(dir, pid, started)
  loop do
    counts = progress(dir, 'count').values.map { |text| text.split.then { |count, at| [Integer(count), Float(at)] } }
    return counts.map(&:last).max if counts.sum(&:first) >= JOBS
    raise "exited before running every job:\n#{File.read(File.join(dir, 'log'))}" if Process.waitpid(pid, Process::WNOHANG)
    raise "timed out with #{counts.sum(&:first)}/#{JOBS} jobs" if now - started > TIMEOUT

    sleep 0.05 # polling interval, with a deadline
  end
end

# Proportional set size in MiB: pages shared copy-on-write with the supervisor count in part.
def pss_mib(pid)
  Integer(File.read("/proc/#{pid}/smaps_rollup")[/^Pss:\s+(\d+) kB/, 1]) / 1024.0
end

def describe(result)
  rss = result[:rss].values.map { |mib| "#{mib} MiB" }.join(' + ')
  "#{result[:rate].round} jobs/s (#{result[:seconds].round(2)} s, enqueue #{result[:enqueued].round(2)} s, " \
    "#{result[:cores].round(2)} cores, RSS #{rss}#{result[:supervisor_rss] ? ", supervisor #{result[:supervisor_rss]} MiB" : ''}, " \
    "PSS of all its processes #{result[:pss]} MiB, " \
    "jobs per process #{result[:per_process].sort.inspect})"
end

LOAD_AT_START = load_average
results = ROUNDS.times.flat_map do |round|
  %w[server swarm].map do |mode|
    run(mode, round).tap { |result| puts "round #{round + 1}, #{mode}: #{describe(result)}" }
  end
end

best = %w[server swarm].to_h { |mode| [mode, results.select { |r| r[:mode] == mode }.max_by { |r| r[:rate] }] }
ratio = best['swarm'][:rate] / best['server'][:rate]
append_results(<<~MD)
  ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} swarm

  #{machine}; load average before the run #{LOAD_AT_START}, after #{load_average}; N = #{JOBS} trivial jobs on #{PARTITIONS} partitions, concurrency #{CONCURRENCY}, #{ROUNDS} alternating round(s), best of each.

  | measurement | jobs/s | vs one server |
  |---|---|---|
  | one `karafka server` | #{best['server'][:rate].round} | 1.0 |
  | `karafka swarm`, #{NODES} nodes | #{best['swarm'][:rate].round} | #{ratio.round(2)} |

  #{results.map { |result| "- #{result[:mode]}: #{describe(result)}" }.join("\n")}
MD
