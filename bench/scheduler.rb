# frozen_string_literal: true

# Scheduled jobs against a real broker: how late the server's timer runs them, and how it
# copes with a big backlog all due at once. Usage (repo root, after `bin/kafka start`):
# ruby bench/scheduler.rb. See bench/README.md; results are appended to bench/results/YYYY-MM.md.
require_relative 'support'
require_relative 'late_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '2000')) # (a) J, due 2-12 s ahead
BACKLOG = Integer(ENV.fetch('BENCH_BACKLOG', '100000')) # (b) P, all due at one moment
LEAD = Float(ENV.fetch('BENCH_LEAD', '15')) # (b) seconds from producing to that moment
PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '6')) # target topic
SCHEDULE_PARTITIONS = Integer(ENV.fetch('BENCH_SCHEDULE_PARTITIONS', '2'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '300')) # seconds a phase may wait for its jobs

def percentile(sorted, fraction)
  sorted[((sorted.size - 1) * fraction).round]
end

def messages(topic, partitions)
  Array.new(partitions) { |partition| Karafka::Admin.watermark_offsets(topic, partition).last }.sum
end

# A target topic and its schedules topic for one phase, LateJob pointed at them; deleted after.
def with_topics(phase)
  target = "bench_scheduler_#{RUN_ID}_#{phase}"
  schedules = "#{target}_schedules"
  Karafka::Admin.create_topic(target, PARTITIONS)
  Karafka::Admin.create_topic(schedules, SCHEDULE_PARTITIONS)
  LateJob.queue_as(target)
  LateJob.karafka_options(scheduled_messages_topic: schedules)
  Dir.mktmpdir('karafka_rs_bench') { |dir| yield target, schedules, dir }
ensure
  [target, schedules].each { |topic| Karafka::Admin.delete_topic(topic) }
end

# Runs the block with a `karafka server` child that expects `expected` LateJobs; stops it after.
def serving(target, schedules, dir, expected)
  env = server_env(target, dir, expected, 'BENCH_SCHEDULES' => schedules)
  with_server(env, File.join(dir, 'server.log')) do |pid, _spawned|
    result = yield pid
    result.merge(exit: stop(pid))
  end
end

# Waits for a file LateJob writes in the server (calling the block meanwhile); returns its text.
def wait_for(dir, name, pid, timeout)
  path = File.join(dir, name)
  deadline = now + timeout
  until File.exist?(path)
    raise 'the server exited early' if Process.waitpid(pid, Process::WNOHANG)
    raise "timed out waiting for #{name}" if now > deadline

    yield if block_given?
    sleep 0.02
  end
  File.read(path)
end

# CPU seconds of a process by thread name (digits dropped: `rdk:broker*`, `karafka.worker#*`).
def thread_cpu(pid)
  Dir["/proc/#{pid}/task/*"].each_with_object(Hash.new(0.0)) do |task, cpu|
    fields = File.read("#{task}/stat").split(') ').last.split
    name = File.read("#{task}/comm").strip.gsub(/\d+/, '*')
    cpu[name] += (Integer(fields[11]) + Integer(fields[12])) / Etc.sysconf(Etc::SC_CLK_TCK).to_f
  end
rescue Errno::ENOENT # a thread ended while read
  retry
end

# Polls the high watermarks of each goal's topic (~5 ms per partition on an idle machine,
# much more during a burst): `seen[name]` becomes [s after due of the last poll that started
# below the goal, s after due when the first poll at the goal ended]; the goal was reached
# in between.
def watch(goals, seen, due)
  goals.each do |name, (topic, partitions, goal)|
    next if seen[name]&.size == 2

    started = Time.now.to_f - due
    reached = messages(topic, partitions) >= goal
    seen[name] = reached ? [seen.fetch(name, [started]).first, Time.now.to_f - due] : [started]
  end
  goals.each_key.all? { |name| seen[name]&.size == 2 }
end

def span(range)
  range&.size == 2 ? "#{range.first.round(2)}-#{range.last.round(2)} s" : 'not seen'
end

def lateness_ms(json)
  JSON.parse(json).fetch('lateness').map { |seconds| seconds * 1000 }.sort
end

# (a) J jobs due 2-12 s ahead, one `set(wait_until:).perform_later` each, in random order;
# the server starts once they are produced.
def lateness_run
  with_topics('a') do |target, schedules, dir|
    base = Time.now.to_f
    dues = Array.new(JOBS) { |i| base + 2 + (10.0 * i / JOBS) }.shuffle
    dues.each { |due| LateJob.set(wait_until: Time.at(due)).perform_later(due) }
    Karafka.producer.flush
    produced = Time.now.to_f - base
    serving(target, schedules, dir, JOBS) do |pid|
      spawned = Time.now.to_f - base
      late = lateness_ms(wait_for(dir, 'lateness.json', pid, 12 + TIMEOUT))
      { produced: produced, spawned: spawned, late: late, schedules: messages(schedules, SCHEDULE_PARTITIONS) }
    end
  end
end

# (b) The server runs first (idle RSS); then P jobs, all due LEAD s later, in one
# `perform_all_later`; RSS once they are loaded; then the burst from the due moment on.
def backlog_run
  with_topics('b') do |target, schedules, dir|
    serving(target, schedules, dir, BACKLOG) do |pid|
      spawned = now
      LateJob.set(wait: 1).perform_later(0, 'ready')
      wait_for(dir, 'ready', pid, 60)
      ready = now - spawned
      sleep 1
      idle = { rss: memory_mib(pid), cpu: cpu_seconds(pid) }

      due = Time.now.to_f + LEAD
      started = now
      ActiveJob.perform_all_later(Array.new(BACKLOG) { LateJob.new(due).tap { |job| job.scheduled_at = due } })
      Karafka.producer.flush
      produce = now - started
      rss = [] # [seconds before the due moment, MiB], every second until 0.5 s before it
      while (left = due - Time.now.to_f) > 0.5
        rss << [left.round, memory_mib(pid).round]
        sleep [left - 0.5, 1].min
      end
      loaded = { rss: memory_mib(pid), hwm: memory_mib(pid, :VmHWM), cpu: cpu_seconds(pid),
                 threads: thread_cpu(pid), left: due - Time.now.to_f }
      raise 'not every schedule was produced before the due moment' if loaded[:left].negative?

      # Dispatched: every target message is on the broker; tombstoned: the schedules topic
      # holds the P schedules and their P tombstones (+ the probe's two).
      goals = { dispatched: [target, PARTITIONS, BACKLOG + 1],
                tombstoned: [schedules, SCHEDULE_PARTITIONS, 2 * (BACKLOG + 1)] }
      seen = {}
      result = wait_for(dir, 'lateness.json', pid, TIMEOUT) { watch(goals, seen, due) }
      deadline = now + 60
      sleep 0.05 until watch(goals, seen, due) || now > deadline
      # The timer writes tombstones once the targets are acknowledged: a bound for both.
      dispatched, tombstoned = seen.values_at(:dispatched, :tombstoned)
      dispatched[1] = [dispatched[1], tombstoned[1]].compact.min if dispatched && tombstoned&.size == 2
      finished = { rss: memory_mib(pid), hwm: memory_mib(pid, :VmHWM), cpu: cpu_seconds(pid), threads: thread_cpu(pid) }
      late = lateness_ms(result)
      { ready: ready, idle: idle, produce: produce, rss: rss, loaded: loaded, finished: finished, late: late,
        dispatched: dispatched, tombstoned: tombstoned }
    end
  end
end

def ms(value)
  "#{value.round} ms"
end

def report(a, b)
  burst = b[:late].last / 1000
  threads = b[:finished][:threads].map { |name, cpu| [name, cpu - b[:loaded][:threads][name]] }
                                  .select { |_, cpu| cpu >= 0.05 }.sort_by { |_, cpu| -cpu }
                                  .map { |name, cpu| "#{name} #{cpu.round(2)} s" }
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — scheduled jobs (`bench/scheduler.rb`)

    #{machine}; target topic #{PARTITIONS} partition(s), schedules topic #{SCHEDULE_PARTITIONS} partition(s), concurrency #{CONCURRENCY}; load average before the run #{LOAD}.

    **(a) lateness**, J = #{JOBS} jobs due 2-12 s ahead (`set(wait_until:).perform_later`, produced in #{a[:produced].round(2)} s; server spawned #{a[:spawned].round(2)} s after the first was produced):

    | p50 | p99 | max | min |
    |---|---|---|---|
    | #{ms(percentile(a[:late], 0.5))} | #{ms(percentile(a[:late], 0.99))} | #{ms(a[:late].last)} | #{ms(a[:late].first)} |

    **(b) backlog**, P = #{BACKLOG} jobs all due at one moment, #{LEAD.round} s after producing began (`perform_all_later` with `scheduled_at`, #{b[:produce].round(2)} s incl. flush):

    | server RSS idle | RSS with P loaded | peak RSS (VmHWM) | RSS after the burst | due → all P dispatched | due → all P ran | jobs/s (P / due → all ran) | lateness min | lateness p50 | lateness p99 |
    |---|---|---|---|---|---|---|---|---|---|
    | #{b[:idle][:rss].round} MiB | #{b[:loaded][:rss].round} MiB | #{b[:finished][:hwm].round} MiB | #{b[:finished][:rss].round} MiB | #{span(b[:dispatched])} | #{burst.round(2)} s | #{(BACKLOG / burst).round} | #{ms(b[:late].first)} | #{ms(percentile(b[:late], 0.5))} | #{ms(percentile(b[:late], 0.99))} |

    - (a): schedules topic held #{a[:schedules]} messages at the end (J schedules + their tombstones); server exit status #{a[:exit].inspect}
    - (b): server ready (probe job ran) #{b[:ready].round(2)} s after spawn; #{((b[:loaded][:rss] - b[:idle][:rss]) * 1024 * 1024 / BACKLOG).round} bytes of RSS per loaded schedule; VmHWM #{b[:loaded][:hwm].round} MiB when loaded
    - (b): RSS [s before due, MiB] while loading: #{b[:rss].inspect}
    - (b): server CPU #{(b[:loaded][:cpu] - b[:idle][:cpu]).round(2)} s while loading, #{(b[:finished][:cpu] - b[:loaded][:cpu]).round(2)} s for the burst (#{threads.join(', ')}); all tombstones written #{span(b[:tombstoned])} after due; server exit status #{b[:exit].inspect}
  MD
end

LOAD = load_average
a = lateness_run
puts "(a) lateness p50 #{ms(percentile(a[:late], 0.5))}, p99 #{ms(percentile(a[:late], 0.99))}, max #{ms(a[:late].last)}"
b = backlog_run
puts "(b) #{BACKLOG} due at once: all ran #{(b[:late].last / 1000).round(2)} s after due; RSS idle " \
     "#{b[:idle][:rss].round} MiB, loaded #{b[:loaded][:rss].round} MiB, peak #{b[:finished][:hwm].round} MiB"
append_results(report(a, b))
