# frozen_string_literal: true

# Where a trivial job's time goes in `karafka server`: CPU samples (perf) of the server while it
# runs a backlog of BenchJobs on 6 partitions, grouped by thread and by code (the Ruby VM and
# Active Job, the JSON parser, librdkafka, the gem's Rust core and bridge, libc, the kernel),
# plus counters per job (CPU, context switches). Usage (repo root, after `rake compile` and
# `bin/kafka start`; needs `perf`, Debian package linux-perf): ruby bench/profile.rb
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '200000'))
PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '6'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
FREQUENCY = 999 # samples per second and thread

# [label, pattern on perf's "dso symbol" line]; the first match wins. libruby is stripped on
# Debian, so the VM, Active Job's Ruby code and the GVL's own bookkeeping share one bucket.
CODE = [
  ['librdkafka (inside karafka_rs.so)', /karafka_rs\.so\s+\S*\s*\[\.\]\s+(rd_|_rd_|rdk|lz4|ZSTD|crc32|murmur|cnd_|mtx_|thrd_|tss_)/],
  ['gem Rust core (karafka_rs::core)', /karafka_rs\.so.*karafka_rs::core::/],
  ['gem bridge + magnus (karafka_rs::bridge, magnus)', /karafka_rs\.so/],
  ['JSON parser / generator (json ext)', /(parser|generator)\.so/],
  ['Ruby VM + Active Job + GVL (libruby, stripped)', /libruby/],
  ['libc (malloc, memcpy, locks)', /libc\.so|ld-linux/],
  ['kernel (syscalls, futex waits/wakes, scheduling)', /\[kernel|\[k\]/]
].freeze

def perf_available?
  system('perf', '--version', out: File::NULL, err: File::NULL)
end

# Per thread name: [user + system CPU seconds, voluntary + involuntary context switches].
def thread_counters(pid)
  Dir["/proc/#{pid}/task/*"].each_with_object(Hash.new { |h, k| h[k] = [0.0, 0] }) do |task, totals|
    name = File.read("#{task}/comm").strip.sub(/[#\d-]+\z/, '*')
    fields = File.read("#{task}/stat").split(') ').last.split
    switches = File.read("#{task}/status").scan(/ctxt_switches:\s+(\d+)/).sum { |(count)| Integer(count) }
    totals[name][0] += (Integer(fields[11]) + Integer(fields[12])) / Etc.sysconf(Etc::SC_CLK_TCK).to_f
    totals[name][1] += switches
  rescue Errno::ENOENT
    next # the thread ended while we read it
  end
end

def enqueue(topic)
  Karafka::Admin.create_topic(topic, PARTITIONS)
  jobs = Array.new(JOBS) { |index| BenchJob.new(index).tap { |job| job.queue_name = topic } }
  jobs.each_slice(10_000) { |slice| ActiveJob.perform_all_later(slice) }
  Karafka.producer.flush
end

# Runs the server over the backlog under `perf record`; returns the counters taken just
# before it is stopped.
def profile_server(topic, dir, data)
  with_server(server_env(topic, dir, JOBS), File.join(dir, 'server.log')) do |pid, spawned|
    perf = Process.spawn('perf', 'record', '-F', FREQUENCY.to_s, '-p', pid.to_s, '-o', data,
                         %i[out err] => File.join(dir, 'perf.log'))
    # Polled only after the last job (each poll costs CPU that competes with the server).
    wait_for_commits(topic, topic, JOBS, pid, spawned + 600, ready: -> { File.exist?(File.join(dir, 'last')) })
    counters = thread_counters(pid)
    Process.kill('INT', perf)
    Process.wait(perf)
    stop(pid)
    counters
  end
end

# perf's samples as { [thread, code label] => share of all samples }.
def shares(data)
  lines = IO.popen(['perf', 'report', '-i', data, '--stdio', '--no-children', '--sort', 'comm,dso,sym'],
                   err: File::NULL, &:readlines)
  totals = Hash.new(0.0)
  lines.each do |line|
    percent, comm, rest = line.match(/^\s+([\d.]+)%\s+(\S+)\s+(.*)$/)&.captures
    next unless percent

    label = CODE.find { |_, pattern| rest.match?(pattern) }&.first || 'other'
    totals[[comm.sub(/[#\d-]+\z/, '*'), label]] += Float(percent) / 100
  end
  sum = totals.values.sum
  totals.transform_values { |share| share / sum } # perf's percentages, rounded, may not add up to 100
end

def table(totals, per_job_us)
  threads = totals.group_by { |(thread, _), _| thread }.transform_values { |rows| rows.sum { |_, share| share } }
  by_code = totals.group_by { |(_, label), _| label }.transform_values { |rows| rows.sum { |_, share| share } }
  code_rows = by_code.sort_by { |_, share| -share }.map do |label, share|
    "| #{label} | #{(share * 100).round(1)}% | #{(share * per_job_us).round(1)} |"
  end
  thread_rows = threads.sort_by { |_, share| -share }.first(6).map do |thread, share|
    "| #{thread} | #{(share * 100).round(1)}% | #{(share * per_job_us).round(1)} |"
  end
  [code_rows, thread_rows]
end

abort 'bench/profile.rb needs perf (apt-get install linux-perf)' unless perf_available?
topic = "bench_profile_#{RUN_ID}"
load_before = load_average
Dir.mktmpdir('karafka_rs_profile') do |dir|
  enqueue(topic)
  data = File.join(dir, 'perf.data')
  counters = profile_server(topic, dir, data)
  cpu = counters.values.sum(&:first)
  per_job_us = cpu / JOBS * 1e6
  code_rows, thread_rows = table(shares(data), per_job_us)
  switch_rows = counters.sort_by { |_, (seconds, _)| -seconds }.first(6).map do |thread, (seconds, switches)|
    "| #{thread} | #{(seconds / JOBS * 1e6).round(1)} | #{(switches.to_f / JOBS).round(3)} |"
  end
  append_results(<<~MD)
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — where a job's time goes (`bench/profile.rb`)

    #{machine}; load average before #{load_before}; #{JOBS} BenchJobs on #{PARTITIONS} partitions, concurrency #{CONCURRENCY}, server sampled by `perf record -F #{FREQUENCY}` from spawn to the last commit; server CPU #{cpu.round(2)} s in all = #{per_job_us.round(1)} µs per job (boot included).

    | code | share of server CPU samples | µs per job |
    |---|---|---|
    #{code_rows.join("\n")}

    | thread | share of samples | µs per job |
    |---|---|---|
    #{thread_rows.join("\n")}

    | thread (from /proc) | CPU µs per job | context switches per job |
    |---|---|---|
    #{switch_rows.join("\n")}
  MD
ensure
  Karafka::Admin.delete_topic(topic)
end
