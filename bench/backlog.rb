# frozen_string_literal: true

# Memory of the server against a big backlog, against a real broker: RSS of an idle server,
# then of a fresh server consuming B jobs already in the topic, and the jobs/s it runs them at.
# Usage (repo root, after `bin/kafka start`): ruby bench/backlog.rb
# See bench/README.md; results are appended to bench/results/YYYY-MM.md.
require_relative 'support'

BACKLOG = Integer(ENV.fetch('BENCH_BACKLOG', '1000000'))
require_relative 'bench_job'

PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '6'))
CONCURRENCY = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
SLICE = 10_000 # jobs per perform_all_later
SAMPLE = 0.25 # seconds between RSS samples
IDLE = Float(ENV.fetch('BENCH_IDLE', '5')) # seconds the idle server is watched after it is ready
TIMEOUT = Float(ENV.fetch('BENCH_TIMEOUT', '900')) # seconds the backlog server may take

def messages(topic)
  Array.new(PARTITIONS) { |partition| Karafka::Admin.watermark_offsets(topic, partition).last }.sum
end

# A `karafka server` child on `topic` expecting `expected` BenchJobs (stamps in `dir`).
def serving(topic, dir, expected)
  with_server(server_env(topic, dir, expected), File.join(dir, 'server.log')) do |pid, spawned|
    result = yield pid, spawned
    result.merge(exit: stop(pid))
  end
end

# Samples VmRSS every SAMPLE s until the stamp `name` exists in `dir`; returns [[t, MiB], ...].
def sample_until(dir, name, pid, spawned, timeout)
  path = File.join(dir, name)
  deadline = now + timeout
  samples = []
  until File.exist?(path)
    raise 'the server exited early' if Process.waitpid(pid, Process::WNOHANG)
    raise "timed out waiting for #{name}" if now > deadline

    samples << [now - spawned, memory_mib(pid)]
    sleep SAMPLE # sampling interval, with a deadline
  end
  samples
end

def with_topic(phase)
  topic = "bench_backlog_#{RUN_ID}_#{phase}"
  Karafka::Admin.create_topic(topic, PARTITIONS)
  Dir.mktmpdir('karafka_rs_bench') { |dir| yield topic, dir }
ensure
  Karafka::Admin.delete_topic(topic) if topic
end

# (a) An idle server: one probe job (first = last stamp), then IDLE s with nothing to do.
def idle_run
  with_topic('idle') do |topic, dir|
    serving(topic, dir, 1) do |pid, spawned|
      BenchJob.set(queue: topic).perform_later(0)
      Karafka.producer.flush
      booting = sample_until(dir, 'last', pid, spawned, 60)
      ready = now - spawned
      idle = []
      (IDLE / SAMPLE).round.times do
        idle << memory_mib(pid)
        sleep SAMPLE # sampling interval
      end
      { ready: ready, boot_rss: booting.map(&:last).max || 0, rss: idle.last, idle_max: idle.max,
        hwm: memory_mib(pid, :VmHWM) }
    end
  end
end

# (b) B jobs produced first (perform_all_later in slices), then a fresh server consumes them.
def backlog_run
  with_topic('backlog') do |topic, dir|
    started = now
    (0...BACKLOG).each_slice(SLICE) do |indexes|
      ActiveJob.perform_all_later(indexes.map { |index| BenchJob.new(index).tap { |job| job.queue_name = topic } })
    end
    Karafka.producer.flush
    produce = now - started
    produced = messages(topic)
    raise "produced #{produced} messages, expected #{BACKLOG}" unless produced == BACKLOG

    puts "produced #{BACKLOG} jobs in #{produce.round(1)} s"
    serving(topic, dir, BACKLOG) do |pid, spawned|
      samples = sample_until(dir, 'last', pid, spawned, TIMEOUT)
      first, last = %w[first last].map { |name| Float(File.read(File.join(dir, name))) }
      { produce: produce, samples: samples, hwm: memory_mib(pid, :VmHWM), after: memory_mib(pid),
        boot: first - spawned, total: last - spawned, steady: (BACKLOG - 1) / (last - first),
        with_boot: BACKLOG / (last - spawned), cpu: cpu_seconds(pid) }
    end
  end
end

def series(samples)
  samples.each_slice([samples.size / 20, 1].max).map { |slice| [slice.first[0].round(1), slice.first[1].round] }
end

def report(a, b)
  <<~MD
    ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — server RSS with a backlog (`bench/backlog.rb`)

    #{machine}; load average before #{LOAD_BEFORE}; #{PARTITIONS} partitions, concurrency #{CONCURRENCY}, boot file `bench/karafka.rb`; B = #{BACKLOG} BenchJobs produced with `perform_all_later` in slices of #{SLICE} (#{b[:produce].round(1)} s incl. flush, #{(BACKLOG / b[:produce]).round} jobs/s) before the server starts.

    | server RSS idle | idle VmHWM | peak RSS (VmHWM) with the backlog | max sampled RSS | RSS after the last job | boot (spawn → first job) | spawn → B-th job | steady jobs/s | incl. boot jobs/s | server cores |
    |---|---|---|---|---|---|---|---|---|---|
    | #{a[:rss].round} MiB | #{a[:hwm].round} MiB | #{b[:hwm].round} MiB | #{b[:samples].map(&:last).max.round} MiB | #{b[:after].round} MiB | #{b[:boot].round(2)} s | #{b[:total].round(1)} s | #{b[:steady].round} | #{b[:with_boot].round} | #{(b[:cpu] / b[:total]).round(2)} |

    - idle: probe job ran #{a[:ready].round(2)} s after spawn, RSS then sampled every #{SAMPLE} s for #{IDLE} s (max #{a[:idle_max].round} MiB); exit status #{a[:exit].inspect}
    - backlog: RSS [s after spawn, MiB] every #{SAMPLE} s (thinned): #{series(b[:samples]).inspect}; exit status #{b[:exit].inspect}
  MD
end

LOAD_BEFORE = load_average
idle = idle_run
puts "idle: #{idle[:rss].round} MiB RSS"
backlog = backlog_run
append_results(report(idle, backlog))
