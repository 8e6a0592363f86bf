# frozen_string_literal: true

# What the benchmark scripts (bench/*.rb) share: the app they enqueue with, the clock, the
# `karafka server` child, its /proc figures, and the results file.
$LOAD_PATH.unshift(File.expand_path('../lib', __dir__))
require 'karafka'
require 'etc'
require 'fileutils'
require 'securerandom'
require 'tmpdir'

ROOT = File.expand_path('..', __dir__)
# Every run appends a dated section to the month's file (bench/results/YYYY-MM.md, UTC);
# bench/RESULTS.md is the hand-written summary of the current figures.
RESULTS = ENV.fetch('BENCH_RESULTS', File.join(__dir__, 'results', "#{Time.now.utc.strftime('%Y-%m')}.md"))
RUN_ID = SecureRandom.hex(4)

class KarafkaApp < Karafka::App
  setup do |config|
    config.kafka = { 'bootstrap.servers': ENV.fetch('KAFKA_BOOTSTRAP', '127.0.0.1:9092') }
    config.client_id = 'karafka_rs_bench'
    config.group_id = "bench_#{RUN_ID}"
    config.logger = Logger.new($stderr, level: Logger::WARN)
  end
end
ActiveJob::Base.queue_adapter = :karafka

# Investigations: extra librdkafka settings for the benchmark process' producer (the one that
# enqueues), `key=value,key=value`; printed in the results by `producer_knobs`.
PRODUCER_KAFKA = ENV.fetch('BENCH_PRODUCER_KAFKA', '').split(',').to_h { |pair| pair.split('=', 2) }
KarafkaApp.config.kafka.merge!(PRODUCER_KAFKA.transform_keys(&:to_sym))

def producer_knobs
  PRODUCER_KAFKA.empty? ? '' : ", BENCH_PRODUCER_KAFKA=#{ENV['BENCH_PRODUCER_KAFKA']}"
end

def now
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

# `karafka server` with the boot file bench/karafka.rb; `env` names its topics, group, etc.
def spawn_server(env, log)
  env = { 'KARAFKA_BOOT_FILE' => File.join(__dir__, 'karafka.rb') }.merge(env)
  Process.spawn(env, RbConfig.ruby, '-Ilib', 'exe/karafka', 'server', chdir: ROOT, %i[out err] => log)
end

# The boot file's settings for a server on `topic` expecting `jobs` BenchJobs/LateJobs, with
# its stamps in `dir`.
def server_env(topic, dir, jobs, group: topic, **extra)
  { 'BENCH_TOPIC' => topic, 'BENCH_GROUP' => group, 'BENCH_JOBS' => jobs.to_s, 'BENCH_STAMP_DIR' => dir,
    'BENCH_CONCURRENCY' => CONCURRENCY.to_s }.merge(extra)
end

# Runs the block with a `karafka server` child (yields its pid and spawn time); the block
# stops it. On a failure the server's log is printed and the child stopped.
def with_server(env, log, &block)
  with_child(log, -> { spawn_server(env, log) }, &block)
end

# with_server for any child `spawn` starts (returns its pid) with its output in `log`.
def with_child(log, spawn)
  spawned = now
  pid = spawn.call
  yield pid, spawned
rescue StandardError, Interrupt
  warn "server log (#{log}):\n#{File.read(log) if File.exist?(log)}"
  stop(pid) if pid
  raise
end

# Waits for a file the server child `pid` writes (atomically: write + rename); returns its text.
def wait_for(path, pid, timeout)
  deadline = now + timeout
  until File.exist?(path)
    raise 'the server exited early' if Process.waitpid(pid, Process::WNOHANG)
    raise "timed out waiting for #{File.basename(path)}" if now > deadline

    sleep 0.02 # polling interval, with a deadline
  end
  File.read(path)
end

# Completion: the group's committed offsets, summed over partitions, reach `expected`.
# `ready` gates the admin calls (each costs ~30 ms of CPU that competes with the server).
def wait_for_commits(group, topic, expected, pid, deadline, ready: -> { true })
  loop do
    done = ready.call ? Karafka::Admin.committed_offsets(group, topic).values.sum { |o| [o, 0].max } : 0
    return now if done >= expected
    raise 'the server exited before running every job' if Process.waitpid(pid, Process::WNOHANG)
    raise "timed out with #{done}/#{expected} jobs committed" if now > deadline

    sleep 0.05 # polling interval, with the deadline above
  end
end

# The Sidekiq comparisons (bench/sidekiq*.rb) talk only to the throw-away Redis of bench/redis.
# Why REDIS_PORT and never REDIS_URL: an application's REDIS_URL left in the environment must
# not point them (bench/sidekiq.rb flushes the database) at a real Redis, nor at the service
# Debian's redis-server package may start on 6379.
REDIS_URL = "redis://127.0.0.1:#{ENV.fetch('REDIS_PORT', '6390')}/0".freeze
REDIS_PID_FILE = File.join(ROOT, 'tmp', 'redis', 'redis.pid') # written by bench/redis

def sidekiq_client!
  require 'sidekiq'
  require 'sidekiq/api' # Sidekiq::Queue
  # Sidekiq 6.4 ignores what `sadd` returns; redis-rb 4.8 would warn at every push about it.
  Redis.silence_deprecations = true
  Sidekiq.configure_client { |config| config.redis = { url: REDIS_URL } }
end

def sidekiq_versions
  "Sidekiq #{Sidekiq::VERSION}, Redis #{Sidekiq.redis(&:info)['redis_version']} on loopback"
end

def redis_pid
  Integer(File.read(REDIS_PID_FILE)) if File.exist?(REDIS_PID_FILE)
end

# What Active Job's :sidekiq adapter pushes for each job, with Sidekiq's bulk call (the path
# `perform_all_later` takes in Rails 7.1+; Active Job 6.1 would push them one by one).
def sidekiq_push_all(jobs)
  wrapper = 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper'
  jobs.group_by { |job| [job.class.name, job.queue_name] }.each do |(name, queue), group|
    group.each_slice(1_000) do |slice|
      Sidekiq::Client.push_bulk('class' => wrapper, 'wrapped' => name, 'queue' => queue,
                                'args' => slice.map { |job| [job.serialize] })
    end
  end
end

# A `sidekiq` child (boot file bench/sidekiq_boot.rb) running `queue` with `concurrency`
# threads, Sidekiq's defaults otherwise; `env` is for the jobs (BENCH_STAMP_DIR, ...).
def with_sidekiq(env, queue, concurrency, log, &block)
  command = ['sidekiq', '-r', File.join(__dir__, 'sidekiq_boot.rb'), '-c', concurrency.to_s, '-q', queue]
  env = env.merge('REDIS_URL' => REDIS_URL)
  with_child(log, -> { Process.spawn(env, *command, chdir: ROOT, %i[out err] => log) }, &block)
end

# user + system CPU seconds of a running process (boot included).
def cpu_seconds(pid)
  fields = File.read("/proc/#{pid}/stat").split(') ').last.split
  (Integer(fields[11]) + Integer(fields[12])) / Etc.sysconf(Etc::SC_CLK_TCK).to_f
end

# A memory figure of a running process in MiB: :VmRSS (now) or :VmHWM (peak so far).
def memory_mib(pid, field = :VmRSS)
  Integer(File.read("/proc/#{pid}/status")[/^#{field}:\s+(\d+) kB/, 1]) / 1024.0
end

# SIGTERM, then SIGKILL after 30 s. Returns the exit status (nil if it was already reaped).
def stop(pid)
  Process.kill('TERM', pid)
  deadline = now + 30
  until (status = Process.waitpid2(pid, Process::WNOHANG)&.last)
    next sleep(0.05) if now < deadline

    Process.kill('KILL', pid)
    return "killed after 30 s (#{Process.waitpid2(pid).last})"
  end
  status.exitstatus
rescue Errno::ESRCH, Errno::ECHILD
  nil
end

def machine
  # No git in the modern lane's root: bench/lanes passes what git says on the host.
  status = git('status', '--porcelain', '--', 'lib', 'ext') || ENV.fetch('BENCH_GIT_STATUS', '')
  dirty = status.empty? ? '' : ' + uncommitted lib/ext changes'
  head = git('rev-parse', '--short', 'HEAD') || ENV.fetch('BENCH_GIT_HEAD', 'unknown commit')
  cpu = File.read('/proc/cpuinfo')[/model name\s*:\s*(.+)/, 1]
  # lib/karafka/native.rb loads the one built for this Ruby's ABI (rake compile puts it there).
  native = File.join(ROOT, 'lib', 'karafka_rs', RbConfig::CONFIG['ruby_version'], "karafka_rs.#{RbConfig::CONFIG['DLEXT']}")
  built = File.exist?(native) ? "#{native.delete_prefix("#{ROOT}/")} built #{File.mtime(native).utc.strftime('%Y-%m-%d %H:%M')} UTC" : 'installed gem'
  "#{lane}nproc #{Etc.nprocessors} (#{cpu}), #{RUBY_DESCRIPTION}, ActiveJob #{ActiveJob.version}, " \
    "karafka-rs #{Karafka::VERSION} at #{head}#{dirty} " \
    "(#{built})"
end

# git's output (stripped), or nil where there is no git (the modern lane's root has none).
def git(*args)
  IO.popen(['git', '-C', ROOT, *args], err: File::NULL, &:read).strip
rescue Errno::ENOENT
  nil
end

# `bin/lane` sets KARAFKA_LANE (host, modern): named first, so sections of both lanes tell apart.
def lane
  ENV['KARAFKA_LANE'] ? "#{ENV['KARAFKA_LANE']} lane: " : ''
end

# The 1, 5 and 15 minute load averages (other work on the machine skews every figure).
def load_average
  File.read('/proc/loadavg').split.first(3).join(' ')
end

# BENCH_SUMMARY (set by bench/lanes): a JSON file the script writes its headline figures to,
# for the side-by-side table of both lanes.
def write_summary(figures)
  path = ENV['BENCH_SUMMARY'] or return
  File.write(path, JSON.generate(figures.merge(lane: ENV.fetch('KARAFKA_LANE', 'host'), ruby: RUBY_VERSION,
                                               active_job: ActiveJob.version.to_s, load: load_average)))
end

# Appends a section (markdown) to the results file and prints it.
def append_results(section)
  FileUtils.mkdir_p(File.dirname(RESULTS))
  File.open(RESULTS, 'a') do |file|
    title = "# karafka-rs benchmark runs, #{File.basename(RESULTS, '.md')}"
    file.puts(file.size.zero? ? "#{title}\n\nAppended by `ruby bench/*.rb`; bench/RESULTS.md summarizes.\n\n" : '')
    file.puts(section)
  end
  puts section
end
