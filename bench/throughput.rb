# frozen_string_literal: true

# Job throughput of karafka-rs against a real broker, next to the limit of Ruby itself and the
# limit of Kafka delivery (a Rust-only consumer, bench/kafka_drain).
# Usage (repo root, after `rake compile` and `bin/kafka start`): ruby bench/throughput.rb
# See bench/README.md for what is measured; results are appended to bench/results/YYYY-MM.md.
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '50000'))
PARTITIONS = ENV.fetch('BENCH_PARTITIONS', '1,6').split(',').map { |count| Integer(count) }
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '600')) # seconds per server or drain run
SERVER_RUNS = Integer(ENV.fetch('BENCH_SERVER_RUNS', '20'))
abort "BENCH_JOBS must be more than the #{BenchJob::WARM_UP} warm-up jobs" unless JOBS > BenchJob::WARM_UP
# bin/lane modern builds into its own CARGO_TARGET_DIR (target/modern): the drain is built
# there by the lane's cargo, against the lane's libraries.
DRAIN = File.join(File.expand_path(ENV.fetch('CARGO_TARGET_DIR', 'target'), ROOT), 'release', 'kafka_drain')
LOAD_BEFORE = load_average

# (a) The same work without Kafka (bench/ruby_limit.rb: deserialize and run each job in a
# tight loop, one timed pass) in a fresh process: this is a ceiling.
# Returns its jobs/s and the median jobs/s of its 1,000-job stretches.
def ruby_limit
  out = IO.popen({ 'BENCH_JOBS' => JOBS.to_s }, [RbConfig.ruby, File.join(__dir__, 'ruby_limit.rb')], &:read)
  raise "bench/ruby_limit.rb failed (#{Process.last_status})" unless Process.last_status.success?

  JSON.parse(out, symbolize_names: true)
end

# One fresh topic per partition count, holding the N jobs: (b) and then (c) read all of it,
# each with a fresh consumer group of its own.
def measure(jobs, partitions)
  topic = "bench_throughput_#{RUN_ID}_p#{partitions}"
  Karafka::Admin.create_topic(topic, partitions)
  produced = enqueue(jobs, topic, partitions)
  server = karafka_rs(topic, produced)
  { server: server, drain: kafka_drain(topic).merge(partitions: partitions) }
ensure
  Karafka::Admin.delete_topic(topic)
end

def enqueue(jobs, topic, partitions)
  jobs.each { |job| job.queue_name = topic }
  started = now
  ActiveJob.perform_all_later(jobs)
  Karafka.producer.flush
  enqueue_rate = jobs.size / (now - started)
  spread = Array.new(partitions) { |partition| Karafka::Admin.watermark_offsets(topic, partition).last }
  raise "produced #{spread.sum} messages, expected #{jobs.size}" unless spread.sum == jobs.size

  { partitions: partitions, spread: spread, enqueue_rate: enqueue_rate }
end

# (b) SERVER_RUNS servers, each with a fresh consumer group reading all of `topic`, with an
# (a) before the first and after each one: the best server against the best of those limits
# (one more try than the servers get, so the limit errs on the fast side), and each server
# against the faster of the two (a)s around it. One run of a few seconds swings by up to ±30%
# on this VM and noise only ever slows a run down, so the best of each is the closest to what
# the machine can do; the bracketed ratios say whether the best server met a fast moment.
#
# Both also report the median of their 1,000-job stretches, the speed a run keeps most of
# the time: the VM's slow spells (seconds at 0.5-0.7 of its speed, in either) weigh on it
# less, so the best server's against the best (a)'s says what the server costs per job.
def karafka_rs(topic, produced)
  measured = [ruby_limit]
  runs = Array.new(SERVER_RUNS) do |index|
    run = karafka_rs_once(topic, "#{topic}_g#{index}", produced)
    measured << ruby_limit
    run.merge(bracket: measured.last(2).map { |pass| pass[:rate] }.max)
  end
  best = runs.max_by { |run| run[:steady] }
  limits = measured.map { |pass| pass[:rate] }
  limit = limits.max
  # stretches: [slowest, median]
  median_ratio = runs.map { |run| run[:stretches].last }.max / measured.map { |pass| pass[:median_stretch] }.max
  bracketed = runs.map { |run| (run[:steady] / run[:bracket]).round(3) }
  best.merge(limit: limit, ratio: best[:steady] / limit, all_steady: runs.map { |run| run[:steady].round },
             all_limits: limits.map(&:round), bracketed: bracketed, median_ratio: median_ratio,
             limit_medians: measured.map { |pass| pass[:median_stretch].round },
             all_stretches: runs.map { |run| run[:stretches] },
             all_warm_ups: runs.map { |run| (run[:warm_up] * 1000).round })
end

# Times a `karafka server` child (consumer group `group`) until it has run every job of `topic`.
def karafka_rs_once(topic, group, produced)
  Dir.mktmpdir('karafka_rs_bench') do |dir|
    result = serve(topic, group, dir)
    first, last = %w[first last].map { |name| Float(File.read(File.join(dir, name))) }
    stamps = [first, *File.read(File.join(dir, 'timeline')).split.map { |stamp| Float(stamp) }.sort]
    # Steady from the WARM_UP-th job on, as (a) is timed after its warm-up (bench_job.rb).
    warm = BenchJob.warmed_up_at(dir)
    result.merge(produced).merge(timings(result[:spawned], first, last))
          .merge(steady: (JOBS - BenchJob::WARM_UP) / (last - warm), warm_up: warm - first)
          .merge(commit_seen: result[:committed] - last, stretches: stretches(stamps))
  end
end

# Jobs/s of each stretch of 1,000 jobs (bench_job.rb's `timeline`): [slowest, median], telling
# a run slow throughout from one that stalled somewhere.
def stretches(stamps)
  rates = stamps.each_cons(2).map { |from, to| 1_000 / (to - from) }.sort
  rates.empty? ? [] : [rates.first.round, rates[rates.size / 2].round]
end

def serve(topic, group, dir)
  with_server(server_env(topic, dir, JOBS, group: group), File.join(dir, 'server.log')) do |pid, spawned|
    # Commits are polled only once the N-th job ran: each poll costs ~30 ms of CPU, which
    # competed with the server on 2 cores (up to ~20% of (b) before this gate).
    committed = wait_for_commits(group, topic, JOBS, pid, spawned + TIMEOUT,
                                 ready: -> { File.exist?(File.join(dir, 'last')) })
    cpu = cpu_seconds(pid)
    { spawned: spawned, committed: committed, cpu: cpu, cores: cpu / (committed - spawned), exit: stop(pid) }
  end
end

# (c) The limit of Kafka delivery: bench/kafka_drain, a Rust-only consumer (no Ruby, no job
# engine) reading the same topic with a fresh group, parsing each payload's JSON and committing
# offsets. Best of three drains, each with its own group, as (a) is best of three: librdkafka
# sometimes stalls a partition's fetching for fetch.queue.backoff.ms (1 s) when its queue is
# over queued.max.messages.kbytes, which would make a single run's figure bimodal.
def kafka_drain(topic)
  drains = Array.new(3) { |index| drain_once(topic, "#{topic}_drain#{index}") }
  drains.max_by { |drain| drain[:steady] }.merge(all_steady: drains.map { |drain| drain[:steady].round })
end

def drain_once(topic, group)
  spawned = now
  out = IO.popen(drain_command(topic, group), &:read) # its errors go to our stderr
  raise "kafka_drain failed (#{Process.last_status})" unless Process.last_status.success?

  drain = JSON.parse(out, symbolize_names: true) # stamps: CLOCK_MONOTONIC, the clock of `now`
  check_drain(drain, group, topic)
  timings(spawned, drain[:first], drain[:last])
    .merge(cores: drain[:cpu] / (drain[:committed] - spawned), commit_seen: drain[:committed] - drain[:last])
end

# BENCH_KAFKA goes to the drain too: both consumers run with the same librdkafka settings.
def drain_command(topic, group)
  settings = ENV.fetch('BENCH_KAFKA', '').split(',').flat_map { |pair| ['--set', pair] }
  [DRAIN, '--bootstrap', ENV.fetch('KAFKA_BOOTSTRAP', '127.0.0.1:9092'), '--topic', topic, '--group', group,
   '--expect', JOBS.to_s, '--timeout', TIMEOUT.to_s, *settings]
end

# Every payload decoded, and the group's offsets on the broker: it did what a consumer does.
def check_drain(drain, group, topic)
  committed = Karafka::Admin.committed_offsets(group, topic).values.sum
  return if drain[:decoded] == JOBS && committed == JOBS

  raise "kafka_drain decoded #{drain[:decoded]} and committed #{committed} of #{JOBS} messages"
end

# `cargo build` is idempotent and takes well under a second when the binary is up to date.
# The crate is a Cargo workspace of its own, so `rake compile` never builds it; it builds into
# the lane's target dir (DRAIN), beside the extension.
DRAIN_BUILD = ['cargo', 'build', '--release', '--locked', '--quiet', '--manifest-path', 'bench/kafka_drain/Cargo.toml',
               '--target-dir', File.expand_path(ENV.fetch('CARGO_TARGET_DIR', 'target'), ROOT)].freeze
def build_drain
  puts "(c) #{DRAIN_BUILD.join(' ')}"
  built = system(*DRAIN_BUILD, chdir: ROOT)
  abort '(c) needs cargo to build bench/kafka_drain (install Rust: https://rustup.rs)' if built.nil?
  abort '(c) building bench/kafka_drain failed' unless built
end

# boot: spawn -> 1st job (message); total: spawn -> N-th; the rates with and without boot
# (the server's steady rate is then taken after its warm-up: #karafka_rs_once).
def timings(spawned, first, last)
  { boot: first - spawned, total: last - spawned, with_boot: JOBS / (last - spawned),
    steady: (JOBS - 1) / (last - first) }
end

def knobs
  set = ENV.slice('BENCH_MAX_MESSAGES', 'BENCH_KAFKA').map { |name, value| "#{name}=#{value}" }
  set.empty? ? '' : ", #{set.join(', ')}"
end

# A table row: jobs/s, their ratio to (a), boot, total and cores, then `extra` cells.
def row(name, r, limit, *extra)
  cells = [name, r[:steady].round, r[:with_boot].round, (r[:steady] / limit).round(3),
           (r[:with_boot] / limit).round(3), "#{r[:boot].round(2)} s", "#{r[:total].round(2)} s",
           r[:cores].round(2), *extra]
  "| #{cells.join(' | ')} |"
end

def report(runs)
  rows = runs.flat_map do |run|
    server, drain = run.values_at(:server, :drain)
    limit = server[:limit]
    ["| (a) Ruby limit: `execute(JSON.parse(payload))` loop, the best of those next to the (b) below | #{limit.round} | | 1.0 | | | " \
     "#{(JOBS / limit).round(2)} s | | |",
     row("(b) karafka-rs, #{server[:partitions]} partition(s)", server, limit, server[:enqueue_rate].round),
     row("(c) Kafka delivery limit: Rust drain, #{drain[:partitions]} partition(s)", drain, limit, '')]
  end
  notes = runs.map do |run|
    server, drain = run.values_at(:server, :drain)
    "- #{server[:partitions]} partition(s): jobs per partition #{server[:spread].inspect}; commits seen " \
      "#{(server[:commit_seen] * 1000).round} ms after the last job; server exit status #{server[:exit].inspect}; " \
      "server CPU #{(server[:cpu] / JOBS * 1e6).round(1)} µs per job (boot included; the limit loop " \
      "takes #{(1e6 / server[:limit]).round(1)} µs of wall time per job); " \
      "(b) / (c) #{(server[:steady] / drain[:steady]).round(3)} steady, " \
      "#{(server[:with_boot] / drain[:with_boot]).round(3)} incl. boot; the #{server[:all_steady].size} servers " \
      "(steady jobs/s) #{server[:all_steady].inspect} between (a)s of #{server[:all_limits].inspect} " \
      "(the best of each reported), each against the faster (a) around it #{server[:bracketed].inspect} " \
      "(median #{server[:bracketed].sort[server[:bracketed].size / 2]}), their 1,000-job stretches " \
      '[slowest, median] in jobs/s ' \
      "#{server[:all_stretches].inspect} against the (a)s' medians #{server[:limit_medians].inspect} " \
      "(best median / best median #{server[:median_ratio].round(3)}), their first #{BenchJob::WARM_UP} jobs (before steady) in ms " \
      "#{server[:all_warm_ups].inspect}; (c) steady jobs/s of the three " \
      "drains #{drain[:all_steady].inspect}, final commit on the broker #{(drain[:commit_seen] * 1000).round} ms " \
      'after the N-th message'
  end
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')}

    #{machine}; load average before #{LOAD_BEFORE}, after #{load_average}; N = #{JOBS} jobs, concurrency #{CONCURRENCY}#{knobs}; (c) = `bench/kafka_drain` (Rust, rdkafka, serde_json parse of each payload).

    | measurement | steady jobs/s | incl. boot jobs/s | ratio steady | ratio incl. boot | boot | total | server cores | enqueue jobs/s |
    |---|---|---|---|---|---|---|---|---|
    #{rows.join("\n")}

    #{notes.join("\n")}
  MD
end

def print_run(run)
  server, drain = run.values_at(:server, :drain)
  limit = server[:limit]
  puts "(a) Ruby limits next to the servers: #{server[:all_limits].inspect} jobs/s " \
       "(their 1,000-job stretches' medians #{server[:limit_medians].inspect})"
  { '(b) karafka-rs' => server, '(c) Rust drain' => drain }.each do |name, r|
    cpu = r[:cpu] ? ", server CPU #{(r[:cpu] / JOBS * 1e6).round(1)} µs/job" : ''
    puts "#{name}, #{r[:partitions]} partition(s): #{r[:steady].round} jobs/s steady#{cpu} " \
         "(#{(r[:steady] / limit).round(3)} of (a)), #{r[:with_boot].round} jobs/s incl. " \
         "#{r[:boot].round(2)} s boot (#{(r[:with_boot] / limit).round(3)} of (a))" \
         "#{", best median stretch / best (a) median stretch #{r[:median_ratio].round(3)}" if r[:median_ratio]}"
  end
end

build_drain
jobs = Array.new(JOBS) { |index| BenchJob.new(index) }
runs = PARTITIONS.map { |partitions| measure(jobs, partitions).tap { |run| print_run(run) } }
append_results(report(runs))
limits = runs.flat_map { |run| run[:server][:all_limits] }.sort
write_summary(limit: limits[limits.size / 2], servers: runs.map do |run|
  server = run[:server]
  { partitions: server[:partitions], steady: server[:steady], ratio: server[:ratio], median_ratio: server[:median_ratio],
    cpu_us: server[:cpu] / JOBS * 1e6, enqueue: server[:enqueue_rate] }
end)
