# frozen_string_literal: true

# `karafka swarm` (BENCH_NODES nodes, default 2) against one `karafka server`, side by side in
# one run: trivial jobs (BenchJob) on a 12-partition topic, alternating the two for
# BENCH_ROUNDS rounds (default 2), each run on a fresh topic with a fresh consumer group.
# Usage (repo root, after `rake compile` and `bin/kafka start`): ruby bench/swarm.rb
# (BENCH_JOBS=5000 BENCH_ROUNDS=1 for a smoke test). Results are appended to bench/results/YYYY-MM.md.
#
# Each run starts its consumers on the empty topic and waits until every partition is owned
# (the group is stable: no rebalance in the measurement; the time it took is reported). Then,
# with BENCH_MEASURE=drain (the default), it enqueues the N jobs while the consumers' jobs wait
# at a gate (bench/swarm_karafka.rb), opens the gate and times from there until the N-th job
# ran: the drain alone. With BENCH_MEASURE=overlap (the measurement before 2026-12-02) the
# clock starts at the enqueue and the jobs run while this process is still enqueueing: the
# enqueue's CPU (~0.5 s per 50,000 jobs on a quiet core) then comes out of the swarm's
# two cores, while one server leaves it the second core - unfair to the swarm.
# Reported per run: jobs and partitions per process, time to a stable group, time from the
# start of the clock to each process' first job and to its last, the CPU the consumers, the
# broker (when its JVM is found in /proc) and this process used in the window.
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '100000'))
NODES = Integer(ENV.fetch('BENCH_NODES', '2'))
PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '12'))
ROUNDS = Integer(ENV.fetch('BENCH_ROUNDS', '2'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '300'))
MEASURE = ENV.fetch('BENCH_MEASURE', 'drain')
raise "BENCH_MEASURE must be drain or overlap (got #{MEASURE})" unless %w[drain overlap].include?(MEASURE)

def spawn_consumer(mode, topic, group, dir)
  env = { 'KARAFKA_BOOT_FILE' => File.join(__dir__, 'swarm_karafka.rb'), 'BENCH_TOPIC' => topic, 'BENCH_GROUP' => group,
          'BENCH_CONCURRENCY' => CONCURRENCY.to_s, 'BENCH_NODES' => NODES.to_s, 'BENCH_PROGRESS_DIR' => dir,
          'BENCH_JOBS' => JOBS.to_s, 'BENCH_TIMEOUT' => TIMEOUT.to_s }
  env['BENCH_GATE'] = File.join(dir, 'gate') if MEASURE == 'drain'
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
    spawned = now
    pid = spawn_consumer(mode, topic, topic, dir)
    begin
      processes = mode == 'swarm' ? NODES : 1
      consumers = wait_until_stable(dir, processes, pid)
      stable = now - spawned
      assignment = progress(dir, 'assigned').transform_values { |text| text.split("\n").size }
      cpu_before = cpu_snapshot(consumers)
      enqueue_started = now
      ActiveJob.perform_all_later(jobs)
      Karafka.producer.flush
      enqueued = now - enqueue_started
      if MEASURE == 'drain'
        cpu_before = cpu_snapshot(consumers)
        started = open_gate(dir)
      else
        started = enqueue_started
      end
      finished, counts = wait_for_jobs(dir, pid, started)
      cpu = cpu_snapshot(consumers).to_h { |key, value| [key, (value - cpu_before[key]) / (finished - started)] }
      rss = consumers.to_h { |consumer| [consumer, memory_mib(consumer).round(1)] }
      pss = (consumers + (mode == 'swarm' ? [pid] : [])).sum { |process| pss_mib(process) }
      { mode: mode, rate: JOBS / (finished - started), seconds: finished - started, enqueued: enqueued,
        stable: stable, rss: rss, pss: pss.round(1), supervisor_rss: mode == 'swarm' ? memory_mib(pid).round(1) : nil,
        cpu: cpu,
        per_process: consumers.map do |consumer|
          count, last_at, first_at = counts.fetch(consumer, [0, nil, nil])
          { jobs: count, partitions: assignment.fetch(consumer, 0),
            first: first_at && (first_at - started), last: last_at && (last_at - started) }
        end }
    ensure
      status = stop(pid)
      warn "#{mode} exit status #{status.inspect}" unless status.nil? || status.zero?
    end
  end
ensure
  Karafka::Admin.delete_topic(topic)
end

# Every job is in Kafka (flushed): the consumers' workers may start (bench/swarm_karafka.rb).
# @return [Float] monotonic time the gate opened
def open_gate(dir)
  File.write(File.join(dir, 'gate'), '')
  now
end

# CPU seconds so far: the consumers together, the broker's JVM (if found) and this process.
def cpu_snapshot(consumers)
  { consumers: consumers.sum { |consumer| cpu_seconds(consumer) },
    broker: BROKER_PID ? cpu_seconds(BROKER_PID) : 0.0,
    bench: Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) }
end

# The local broker's JVM (reading /proc only), for its share of the CPU in the window.
def find_broker_pid
  Dir['/proc/[0-9]*/cmdline'].each do |path|
    cmdline = File.read(path)
    return Integer(path[%r{/proc/(\d+)/}, 1]) if cmdline.include?('java') && cmdline.include?('kafka.Kafka')
  rescue SystemCallError
    next
  end
  nil
end
BROKER_PID = find_broker_pid

# @return [Array(Float, Hash)] monotonic time of the N-th job (the latest process' last job),
#   and per process `[jobs, last_at, first_at]`
def wait_for_jobs(dir, pid, started)
  loop do
    counts = progress(dir, 'count').transform_values do |text|
      count, last_at, first_at = text.split
      [Integer(count), Float(last_at), Float(first_at)]
    end
    return [counts.values.map { |_count, last_at, _| last_at }.max, counts] if counts.values.sum(&:first) >= JOBS
    raise "exited before running every job:\n#{File.read(File.join(dir, 'log'))}" if Process.waitpid(pid, Process::WNOHANG)
    raise "timed out with #{counts.values.sum(&:first)}/#{JOBS} jobs" if now - started > TIMEOUT

    sleep 0.05 # polling interval, with a deadline
  end
end

# Proportional set size in MiB: pages shared copy-on-write with the supervisor count in part.
def pss_mib(pid)
  Integer(File.read("/proc/#{pid}/smaps_rollup")[/^Pss:\s+(\d+) kB/, 1]) / 1024.0
end

def describe(result)
  rss = result[:rss].values.map { |mib| "#{mib} MiB" }.join(' + ')
  processes = result[:per_process].map do |p|
    "#{p[:jobs]} jobs on #{p[:partitions]} partitions, first job at #{p[:first]&.round(2)} s, last at #{p[:last]&.round(2)} s"
  end
  cpu = result[:cpu]
  "#{result[:rate].round} jobs/s (#{result[:seconds].round(2)} s; group stable #{result[:stable].round(1)} s after spawn; " \
    "enqueue #{result[:enqueued].round(2)} s; cores used: consumers #{cpu[:consumers].round(2)}, " \
    "broker #{BROKER_PID ? cpu[:broker].round(2) : 'n/a'}, bench #{cpu[:bench].round(2)}; RSS #{rss}" \
    "#{result[:supervisor_rss] ? ", supervisor #{result[:supervisor_rss]} MiB" : ''}; " \
    "PSS of all its processes #{result[:pss]} MiB; per process: #{processes.join('; ')})"
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

  #{machine}; load average before the run #{LOAD_AT_START}, after #{load_average}; N = #{JOBS} trivial jobs on #{PARTITIONS} partitions, concurrency #{CONCURRENCY}, #{ROUNDS} alternating round(s), best of each; measured: #{MEASURE == 'drain' ? 'the drain of an enqueued backlog (BENCH_MEASURE=drain)' : 'from the start of the enqueue (BENCH_MEASURE=overlap)'}.

  | measurement | jobs/s | vs one server |
  |---|---|---|
  | one `karafka server` | #{best['server'][:rate].round} | 1.0 |
  | `karafka swarm`, #{NODES} nodes | #{best['swarm'][:rate].round} | #{ratio.round(2)} |

  #{results.map { |result| "- #{result[:mode]}: #{describe(result)}" }.join("\n")}
MD
