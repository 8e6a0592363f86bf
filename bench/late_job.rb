# frozen_string_literal: true

require 'json'

# The job bench/scheduler.rb schedules: `perform(due_at)` with its due time (epoch seconds)
# as argument. In the server (BENCH_STAMP_DIR set), each run notes its lateness (wall clock
# at the start of `perform` minus `due_at`); the BENCH_JOBS-th run writes them all to
# `lateness.json` in that directory, which also tells the parent that every job ran. Each
# run's `[provider_job_id, due_at, started]` goes there too (`runs`), so bench/latency.rb can
# find a job's message ("topic/partition/offset") and split its latency at the broker.
# `perform(due_at, 'ready')` is the parent's probe: it only writes `ready` and is not counted.
class LateJob < ActiveJob::Base
  STAMP_DIR = ENV['BENCH_STAMP_DIR']
  EXPECTED = Integer(ENV.fetch('BENCH_JOBS', '0'))

  @lateness = []
  @runs = []
  @lock = Mutex.new

  class << self
    def ran!(started, due_at, provider_job_id)
      done = @lock.synchronize do
        @lateness << (started - due_at)
        @runs << [provider_job_id, due_at, started]
        @lateness.size == EXPECTED
      end
      write('lateness.json', JSON.generate(lateness: @lateness, runs: @runs)) if done
    end

    def write(name, content)
      path = File.join(STAMP_DIR, name)
      File.write("#{path}.tmp", content)
      File.rename("#{path}.tmp", path)
    end
  end

  def perform(due_at, kind = 'measured')
    started = Time.now.to_f
    return self.class.write('ready', started.to_s) if kind == 'ready'

    self.class.ran!(started, due_at, provider_job_id) if STAMP_DIR
  end
end

# Active Job's own INFO lines ("Enqueued ...", "Performing ...") are silenced, as for BenchJob.
ActiveJob::Base.logger = Logger.new(IO::NULL, level: Logger::WARN)
