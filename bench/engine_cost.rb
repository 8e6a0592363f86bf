# frozen_string_literal: true

# What the engine itself costs per job: `karafka server` over a backlog of BenchJobs with an
# executor that runs none of them (bench/noop_executor.rb, BENCH_NOOP), so the jobs/s and the
# worker threads' CPU per job are the engine's own: claiming a job, the call into Ruby, the
# payload and key Strings, completing it, committing. A trivial job's own Ruby
# (bench/ruby_limit.rb: ~25 µs on Ruby 3.3, ~45 µs on 3.1) plus this is what a server can
# reach. BENCH_RUNS servers (3) per partition count (BENCH_PARTITIONS, 1,6) on BENCH_JOBS
# jobs (300,000), the best by CPU per job reported (noise only adds to it), all listed.
# Usage (repo root, after `rake compile` and `bin/kafka start`; either lane): ruby bench/engine_cost.rb
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '300000'))
PARTITIONS = ENV.fetch('BENCH_PARTITIONS', '1,6').split(',').map { |count| Integer(count) }
RUNS = Integer(ENV.fetch('BENCH_RUNS', '3'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '600'))
LOAD_BEFORE = load_average
abort "BENCH_JOBS must be more than the #{BenchJob::WARM_UP} warm-up jobs" unless JOBS > BenchJob::WARM_UP

# On-CPU nanoseconds (schedstat) of the server's threads whose name starts with `prefix`.
def threads_cpu_ns(pid, prefix)
  Dir["/proc/#{pid}/task/*"].sum do |task|
    File.read("#{task}/comm").start_with?(prefix) ? Integer(File.read("#{task}/schedstat").split.first) : 0
  rescue Errno::ENOENT, Errno::ESRCH
    0 # a thread that ended meanwhile
  end
end

# One server over the whole backlog: steady jobs/s after the warm-up, and the CPU per job of
# its workers and of its listener (the consumer loop) from its first job to its last.
def serve(topic, group)
  Dir.mktmpdir('karafka_rs_engine_cost') do |dir|
    env = server_env(topic, dir, JOBS, group: group, 'BENCH_NOOP' => '1')
    with_server(env, File.join(dir, 'server.log')) do |pid, _spawned|
      wait_for(File.join(dir, 'first'), pid, TIMEOUT)
      before = %w[karafka.worker karafka.listen].map { |name| threads_cpu_ns(pid, name) }
      # The CPU is read when the stamps are seen (wait_for polls every 20 ms).
      raise "#{JOBS} jobs ran before their CPU could be read: raise BENCH_JOBS" if File.exist?(File.join(dir, 'last'))

      wait_for(File.join(dir, 'last'), pid, TIMEOUT)
      after = %w[karafka.worker karafka.listen].map { |name| threads_cpu_ns(pid, name) }
      status = stop(pid)
      raise "server exit status #{status.inspect}" unless status.nil? || status.zero?

      last = Float(File.read(File.join(dir, 'last')))
      warm = BenchJob.warmed_up_at(dir)
      workers, listener = after.zip(before).map { |done, start| (done - start) / 1e3 / JOBS }
      { rate: (JOBS - BenchJob::WARM_UP) / (last - warm), workers_us: workers, listener_us: listener }
    end
  end
end

def measure(partitions)
  topic = "bench_engine_cost_#{RUN_ID}_p#{partitions}"
  Karafka::Admin.create_topic(topic, partitions)
  jobs = Array.new(JOBS) { |index| BenchJob.new(index).tap { |job| job.queue_name = topic } }
  jobs.each_slice(50_000) { |slice| ActiveJob.perform_all_later(slice) }
  Karafka.producer.flush
  runs = Array.new(RUNS) { |index| serve(topic, "#{topic}_g#{index}") }
  { partitions: partitions, best: runs.min_by { |run| run[:workers_us] }, runs: runs }
ensure
  Karafka::Admin.delete_topic(topic)
end

def report(results)
  rows = results.map do |result|
    best = result[:best]
    "| #{result[:partitions]} | #{best[:rate].round} | #{(1e6 / best[:rate]).round(2)} | " \
      "#{best[:workers_us].round(2)} | #{best[:listener_us].round(2)} | " \
      "#{result[:runs].map { |run| "#{run[:rate].round} / #{run[:workers_us].round(2)}" }.join(', ')} |"
  end
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — engine cost per job (`bench/engine_cost.rb`)

    #{machine}; load average before #{LOAD_BEFORE}, after #{load_average}; #{JOBS} BenchJobs per server, a no-op executor (`BENCH_NOOP`), concurrency #{CONCURRENCY}, #{RUNS} servers per partition count, the one with the least worker CPU per job shown; steady = after the first #{BenchJob::WARM_UP} jobs.

    | partitions | jobs/s | µs per job (wall) | workers' CPU µs per job | listener's CPU µs per job | every server: jobs/s / workers' µs |
    |---|---|---|---|---|---|
    #{rows.join("\n")}
  MD
end

append_results(report(PARTITIONS.map { |partitions| measure(partitions) }))
