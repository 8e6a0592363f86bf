# frozen_string_literal: true

# I/O-bound jobs (each one waits 5 ms) at concurrency C, parallel (a) through C Kafka
# partitions and (b) through C virtual partitions of one partition. Ideal: C x 200 jobs/s.
# Usage (repo root, after `rake compile` and `bin/kafka start`): ruby bench/io_bound.rb
# See bench/README.md for what is measured; results are appended to bench/results/YYYY-MM.md.
require_relative 'support'
require_relative 'io_bound_karafka'

CONCURRENCY = ENV.fetch('BENCH_CONCURRENCY_LIST', '1,4,16,32').split(',').map { |c| Integer(c) }
PER_C = Integer(ENV.fetch('BENCH_JOBS_PER_C', '1000')) # 1000 jobs per worker: 5 s of ideal work
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '120')) # seconds per server run
KEYS_PER_LANE = 10
MODES = { partitions: '(a) C partitions', virtual: '(b) 1 partition, C virtual partitions' }.freeze

def jobs_for(concurrency) = [2, concurrency].max * PER_C
def ideal(concurrency) = concurrency / IoJob::WAIT

# Karafka's reducer (what the gem applies to the partitioner's value) for a message key.
def lane_of(key, lanes)
  held = Karafka::Native::Unclassified.new('', 0, 0, key, {}) # topic, partition, offset, key, headers
  Karafka::Routing::VirtualPartitions.new(partitioner: ->(message) { message.key }).lane_for(lanes, held)
end

# KEYS_PER_LANE keys for each lane, interleaved: round-robin over them spreads jobs evenly.
def even_keys(lanes)
  by_lane = Array.new(lanes) { [] }
  (0..).each do |index|
    key = "key-#{index}"
    keys = by_lane[lane_of(key, lanes)]
    keys << key if keys.size < KEYS_PER_LANE
    return by_lane.transpose.flatten if by_lane.all? { |k| k.size == KEYS_PER_LANE }
  end
end

# The busiest lane's share relative to the average, with the first 10 x C keys taken as is.
def naive_skew(lanes)
  loads = Array.new(lanes * KEYS_PER_LANE) { |index| lane_of("key-#{index}", lanes) }.tally.values
  loads.max.to_f * lanes / loads.sum
end

# (0) Ruby alone, no Kafka and no gem: C threads each run `ActiveJob::Base.execute` of the
# serialized job in a loop, PER_C / 5 times (1 s of ideal work).
def ruby_alone(concurrency)
  payload = JSON.generate(IoJob.new(0, 'key').serialize)
  per_thread = [PER_C / 5, 20].max
  20.times { ActiveJob::Base.execute(JSON.parse(payload)) } # warm-up
  started = now
  Array.new(concurrency) { Thread.new { per_thread.times { ActiveJob::Base.execute(JSON.parse(payload)) } } }.each(&:join)
  concurrency * per_thread / (now - started)
end

def measure(concurrency, mode)
  n = jobs_for(concurrency)
  topic = group = "bench_io_#{RUN_ID}_#{mode}#{concurrency}"
  partitions = mode == :partitions ? concurrency : 1
  Karafka::Admin.create_topic(topic, partitions)
  keys = even_keys(concurrency) if mode == :virtual
  IoJob.karafka_options(partition_key_type: keys ? :key : :partition)
  jobs = Array.new(n) { |index| IoJob.new(index, keys ? keys[index % keys.size] : index % concurrency) }
  jobs.each { |job| job.queue_name = topic }
  ActiveJob.perform_all_later(jobs)
  Karafka.producer.flush
  spread = Array.new(partitions) { |partition| Karafka::Admin.watermark_offsets(topic, partition).last }
  raise "produced #{spread.sum} messages, expected #{n}" unless spread.sum == n

  Dir.mktmpdir('karafka_rs_io_bound') do |dir|
    env = { 'KARAFKA_BOOT_FILE' => File.join(__dir__, 'io_bound_karafka.rb'), 'BENCH_TOPIC' => topic,
            'BENCH_GROUP' => group, 'BENCH_JOBS' => n.to_s, 'BENCH_CONCURRENCY' => concurrency.to_s,
            'BENCH_STATS' => File.join(dir, 'stats.json') }
    env['BENCH_LANES'] = concurrency.to_s if keys
    serve(env, n, File.join(dir, 'server.log')).merge(c: concurrency, mode: mode)
  end
ensure
  Karafka::Admin.delete_topic(topic)
end

def serve(env, n, log)
  broker_cores = cores_since(`#{ROOT}/bin/kafka status`[/pid (\d+)/, 1]&.to_i)
  with_server(env, log) do |pid, spawned|
    # Commits are polled only once the last job wrote its stats (see wait_for_commits).
    committed = wait_for_commits(env['BENCH_GROUP'], env['BENCH_TOPIC'], n, pid, spawned + TIMEOUT,
                                 ready: -> { File.exist?(env['BENCH_STATS']) })
    broker = broker_cores.call(committed - spawned)
    run_figures(env['BENCH_STATS'], n, pid, spawned, committed).merge(broker_cores: broker)
  end
end

# A lambda: the CPU cores process `pid` (the broker, Redis) used from now over `wall` seconds.
def cores_since(pid)
  return ->(_wall) {} unless pid

  before = cpu_seconds(pid)
  ->(wall) { (cpu_seconds(pid) - before) / wall }
end

# The figures of one server run (see bench/README.md) from the stats file its N-th job wrote;
# `done`: when the parent saw the run complete. Stops the server (`pid`).
def run_figures(stats_path, n, pid, spawned, done)
  r = { cores: cpu_seconds(pid) / (done - spawned), exit: stop(pid) }
  s = JSON.parse(File.read(stats_path), symbolize_names: true)
  span = s[:last] - s[:first]
  r.merge(rate: n / span, boot: s[:first] - spawned, commit_seen: done - s[:last],
          job_ms: s[:busy] / n * 1000, gap_ms: s[:gaps] / [s[:gap_count], 1].max * 1000, busy_workers: s[:busy] / span,
          cpu_us: (s[:usage_last][:cpu] - s[:usage_first][:cpu]) / n * 1e6,
          switches: (s[:usage_last][:switches] - s[:usage_first][:switches]).to_f / n)
end

def ratio(rate, concurrency) = (rate / ideal(concurrency)).round(3)

def report(alone, runs)
  summary = CONCURRENCY.map do |c|
    cells = [alone[c], *MODES.keys.map { |mode| runs.find { |r| r[:c] == c && r[:mode] == mode }[:rate] }]
    "| #{c} | #{jobs_for(c)} | #{ideal(c).round} | #{cells.map { |rate| "#{rate.round} | #{ratio(rate, c)}" }.join(' | ')} |"
  end
  details = runs.map do |r|
    "| #{r[:c]} | #{MODES[r[:mode]]} | #{r[:job_ms].round(3)} | #{r[:gap_ms].round(3)} | #{r[:busy_workers].round(2)} | " \
      "#{r[:cpu_us].round} | #{r[:switches].round(1)} | #{r[:cores].round(2)} | #{r[:broker_cores]&.round(2)} | " \
      "#{r[:boot].round(2)} s | #{(r[:commit_seen] * 1000).round} ms | #{r[:exit].inspect} |"
  end
  skews = CONCURRENCY.select { |c| c > 1 }.map { |c| "C = #{c}: #{naive_skew(c).round(2)}" }
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')}: I/O-bound jobs (`bench/io_bound.rb`)

    #{machine}; each job sleeps #{(IoJob::WAIT * 1000).round} ms; N = max(2, C) x #{PER_C} jobs; gem defaults otherwise.

    | C | N | ideal jobs/s | (0) Ruby alone jobs/s | (0) ratio | (a) C partitions jobs/s | (a) ratio | (b) C virtual partitions jobs/s | (b) ratio |
    |---|---|---|---|---|---|---|---|---|
    #{summary.join("\n")}

    | C | measurement | job time ms | gap ms | busy workers | server CPU us/job | ctx switches/job | server cores | broker cores | boot | commits seen | exit |
    |---|---|---|---|---|---|---|---|---|---|---|---|
    #{details.join("\n")}

    - (b) keys: #{KEYS_PER_LANE} per lane, chosen so that the gem's reducer gives every lane the same share of
      jobs. Taking the first 10 x C keys `key-0`, `key-1`, ... as they come instead, the busiest lane would
      get this multiple of the average share (and (b) at most 1 / it of ideal): #{skews.join(', ')}.
  MD
end

def progress(concurrency, label, r)
  puts "C = #{concurrency}, #{label}: #{r[:rate].round} jobs/s (#{ratio(r[:rate], concurrency)} of ideal), " \
       "job #{r[:job_ms].round(2)} ms, gap #{r[:gap_ms].round(3)} ms, #{r[:busy_workers].round(2)} workers busy"
end

# Only when run as a script: bench/sidekiq_io.rb loads this file for `measure`.
if $PROGRAM_NAME == __FILE__
  alone = CONCURRENCY.to_h { |c| [c, ruby_alone(c)] }
  runs = CONCURRENCY.flat_map do |c|
    puts "C = #{c}, (0) Ruby alone: #{alone[c].round} jobs/s (#{ratio(alone[c], c)} of ideal)"
    MODES.keys.map { |mode| measure(c, mode).tap { |r| progress(c, MODES[mode], r) } }
  end
  append_results(report(alone, runs))
end
