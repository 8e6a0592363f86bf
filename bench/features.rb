# frozen_string_literal: true

# Trivial-job throughput with the opt-in job features (cancels, deadlines, traces) off and on,
# side by side in one run, interleaved (A B C A B C ...) so the machine's load hits each alike;
# optionally next to another checkout (BENCH_BASE_ROOT: e.g. the commit before the features,
# with the same compiled extension), to show "off" costs nothing.
# Usage: ruby bench/features.rb (BENCH_JOBS, BENCH_ROUNDS, BENCH_BASE_ROOT)
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '20000'))
ROUNDS = Integer(ENV.fetch('BENCH_ROUNDS', '3'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
TIMEOUT = 300

def serve_from(root, topic, group, extra)
  Dir.mktmpdir('karafka_rs_features') do |dir|
    env = server_env(topic, dir, JOBS, group: group, 'KARAFKA_BOOT_FILE' => File.join(root, 'bench', 'karafka.rb'))
             .merge(extra)
    log = File.join(dir, 'server.log')
    spawn = -> { Process.spawn(env, RbConfig.ruby, '-Ilib', 'exe/karafka', 'server', chdir: root, %i[out err] => log) }
    cpu = with_child(log, spawn) do |pid, _spawned|
      wait_for_commits(group, topic, JOBS, pid, now + TIMEOUT, ready: -> { File.exist?(File.join(dir, 'last')) })
      cpu_seconds(pid).tap { stop(pid) }
    end
    first, last = %w[first last].map { |name| Float(File.read(File.join(dir, name))) }
    # CPU of the whole server process (boot included) per job: steadier than jobs/s on a loaded machine.
    [(JOBS - 1) / (last - first), cpu * 1e6 / JOBS]
  end
end

topic = "bench_features_#{RUN_ID}"
cancels = "bench_features_cancels_#{RUN_ID}"
Karafka::Admin.create_topic(topic, 1)
Karafka::Admin.create_topic(cancels, 1, 1, { 'cleanup.policy' => 'compact' })
begin
  jobs = Array.new(JOBS) { |i| BenchJob.new(i).tap { |job| job.queue_name = topic } }
  ActiveJob.perform_all_later(jobs)
  Karafka.producer.flush
  variants = {}
  variants['base (BENCH_BASE_ROOT)'] = [ENV['BENCH_BASE_ROOT'], {}] if ENV['BENCH_BASE_ROOT']
  variants['features off'] = [ROOT, {}]
  variants['cancels + traces + deadline on'] = [ROOT, { 'BENCH_CANCELS' => cancels, 'BENCH_TRACES' => '1', 'BENCH_DEADLINE' => '30' }]
  results = variants.transform_values { [] }
  ROUNDS.times do |round|
    variants.each do |name, (root, extra)|
      results[name] << serve_from(root, topic, "#{topic}_#{round}_#{results[name].size}_#{name.hash.abs}", extra)
    end
  end
  puts "1 partition, #{JOBS} trivial jobs, concurrency #{CONCURRENCY}, #{ROUNDS} interleaved rounds, load #{load_average}"
  results.each do |name, runs|
    rates = runs.map(&:first)
    cpu = runs.map(&:last)
    puts format('%-34s jobs/s best %6d median %6d (all: %s) | server CPU us/job median %5.1f min %5.1f',
                name, rates.max, rates.sort[rates.size / 2], rates.map(&:round).join(', '), cpu.sort[cpu.size / 2], cpu.min)
  end
ensure
  Karafka::Admin.delete_topic(topic)
  Karafka::Admin.delete_topic(cancels)
end
