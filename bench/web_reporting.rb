# frozen_string_literal: true

# What Karafka::Web's reporting costs the job path: trivial jobs (BenchJob) drained by one
# `karafka server` with Karafka::Web enabled and without, side by side in one run, alternating
# off/on for BENCH_ROUNDS rounds (default 3) on one topic holding N jobs (default 50,000), each
# server with a fresh consumer group. With Web on, the executor tells the server's Tracker of every
# job (per-worker-thread slots, no event, no lock) and its Reporter produces a report every
# BENCH_WEB_INTERVAL ms (default 5000, Karafka Web's tracking interval).
# Usage (repo root, after `rake compile` and `bin/kafka start`): ruby bench/web_reporting.rb
# Reported: jobs/s (first to N-th job) and the server's CPU per job in that window, which a
# loaded machine disturbs less. Results are appended to bench/results/YYYY-MM.md (BENCH_RESULTS=/dev/null
# for experiments).
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '50000'))
PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '6'))
ROUNDS = Integer(ENV.fetch('BENCH_ROUNDS', '3'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
INTERVAL = Integer(ENV.fetch('BENCH_WEB_INTERVAL', '5000'))
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '600'))
PREFIX = "bench_web_#{RUN_ID}".freeze
WEB_TOPICS = %w[consumers_states consumers_reports errors dlq_actions].map { |name| "#{PREFIX}_#{name}" }

# One drain of the whole topic: jobs/s from the first job to the N-th (boot excluded).
def drain(topic, web, index)
  Dir.mktmpdir('karafka_rs_bench_web') do |dir|
    env = server_env(topic, dir, JOBS, group: "#{topic}_g#{index}",
                                       'KARAFKA_BOOT_FILE' => File.join(__dir__, 'web_karafka.rb'),
                                       'BENCH_WEB' => web ? '1' : '0', 'BENCH_WEB_PREFIX' => PREFIX,
                                       'BENCH_WEB_INTERVAL' => INTERVAL.to_s)
    with_server(env, File.join(dir, 'server.log')) do |pid, _spawned|
      # The server's CPU from (about) its first job to its N-th: what the job path costs,
      # a steadier figure than the rate on a loaded machine.
      wait_for(File.join(dir, 'first'), pid, TIMEOUT)
      cpu_at_first = cpu_seconds(pid)
      wait_for(File.join(dir, 'last'), pid, TIMEOUT)
      cpu = cpu_seconds(pid) - cpu_at_first
      first, last = %w[first last].map { |name| Float(File.read(File.join(dir, name))) }
      status = stop(pid)
      raise "server exit status #{status.inspect}" unless status.nil? || status.zero?

      { web: web, rate: (JOBS - 1) / (last - first), seconds: last - first, cpu_us: cpu * 1_000_000 / JOBS }
    end
  end
end

def reports_produced
  Karafka::Admin.watermark_offsets(WEB_TOPICS[1], 0).last
end

topic = "bench_web_reporting_#{RUN_ID}"
LOAD_AT_START = load_average
begin
  WEB_TOPICS.each { |name| Karafka::Admin.create_topic(name, 1) }
  Karafka::Admin.create_topic(topic, PARTITIONS)
  jobs = Array.new(JOBS) { |index| BenchJob.new(index).tap { |job| job.queue_name = topic } }
  ActiveJob.perform_all_later(jobs)
  Karafka.producer.flush
  runs = Array.new(ROUNDS).each_with_index.flat_map do |_, round|
    [false, true].each_with_index.map do |web, slot|
      drain(topic, web, (round * 2) + slot).tap do |run|
        puts "round #{round + 1}, Web #{web ? 'on' : 'off'}: #{run[:rate].round} jobs/s (#{run[:seconds].round(2)} s, " \
             "server CPU #{run[:cpu_us].round} us per job)"
      end
    end
  end
  reports = reports_produced
ensure
  ([topic] + WEB_TOPICS).each { |name| Karafka::Admin.delete_topic(name) rescue nil } # rubocop:disable Style/RescueModifier
end

best = [false, true].to_h { |web| [web, runs.select { |run| run[:web] == web }.max_by { |run| run[:rate] }] }
rates = ->(web) { runs.select { |run| run[:web] == web }.map { |run| run[:rate].round }.join(', ') }
cpu = ->(web) { runs.select { |run| run[:web] == web }.map { |run| run[:cpu_us] }.min }
cpus = ->(web) { runs.select { |run| run[:web] == web }.map { |run| run[:cpu_us].round }.join(', ') }
append_results(<<~MD)
  ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} web reporting

  #{machine}; load average before the run #{LOAD_AT_START}, after #{load_average}; N = #{JOBS} trivial jobs on #{PARTITIONS} partitions, concurrency #{CONCURRENCY}, one server, #{ROUNDS} alternating round(s) off/on, best of each; Web tracking interval #{INTERVAL} ms (#{reports} reports produced in all).

  | measurement | jobs/s (best) | all runs | vs Web off | server CPU per job, us (least) | all runs | vs Web off |
  |---|---|---|---|---|---|---|
  | Karafka::Web off | #{best[false][:rate].round} | #{rates.call(false)} | 1.0 | #{cpu.call(false).round} | #{cpus.call(false)} | 1.0 |
  | Karafka::Web on | #{best[true][:rate].round} | #{rates.call(true)} | #{(best[true][:rate] / best[false][:rate]).round(3)} | #{cpu.call(true).round} | #{cpus.call(true)} | #{(cpu.call(true) / cpu.call(false)).round(3)} |
MD
