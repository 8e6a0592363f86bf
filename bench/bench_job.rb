# frozen_string_literal: true

# The trivial job both measurements run: perform only bumps a counter. In the server
# (BENCH_STAMP_DIR set), the first and the BENCH_JOBS-th run also write the monotonic clock
# to `first` / `last` in that directory (CLOCK_MONOTONIC is system-wide on Linux, so the
# parent can compare it with its own readings).
class BenchJob < ActiveJob::Base
  STAMP_DIR = ENV['BENCH_STAMP_DIR']
  EXPECTED = Integer(ENV.fetch('BENCH_JOBS', '50000'))
  # The first jobs of a process pay for Ruby's method caches and Active Job's lazily loaded
  # constants (measured on Ruby 3.3: 20-35 ms more than steady jobs in the first 1,000,
  # in the server and in a bare loop alike). Both sides of bench/throughput.rb leave them out
  # of their timed window: bench/ruby_limit.rb runs them untimed, and the server's steady
  # rate starts at its WARM_UP-th job (a stamp of the timeline below).
  WARM_UP = 1_000

  # Keyed by job id: spreads the jobs evenly over a topic's partitions.
  karafka_options(partitioner: ->(job) { job.job_id })

  @count = 0
  @lock = Mutex.new
  # The clock at every 1,000th job, written to `timeline` with `last`: whether a slow run was
  # slow throughout or stalled somewhere (bench/throughput.rb reports both).
  @timeline = []

  class << self
    attr_reader :count

    def ran!
      n = @lock.synchronize { @count += 1 }
      return unless STAMP_DIR

      stamp('first') if n == 1
      @timeline << Process.clock_gettime(Process::CLOCK_MONOTONIC) if (n % 1_000).zero?
      File.write(File.join(STAMP_DIR, 'timeline'), @timeline.join("\n")) if n == EXPECTED
      stamp('last') if n == EXPECTED
    end

    # When the server that stamped `dir` ran its WARM_UP-th job: where the steady window of
    # bench/throughput.rb and bench/engine_cost.rb starts. Workers append to the timeline in
    # turn, so it is sorted first.
    def warmed_up_at(dir)
      File.read(File.join(dir, 'timeline')).split.map { |stamp| Float(stamp) }.sort.fetch((WARM_UP / 1_000) - 1)
    end

    private

    def stamp(name)
      path = File.join(STAMP_DIR, name)
      File.write("#{path}.tmp", Process.clock_gettime(Process::CLOCK_MONOTONIC).to_s)
      File.rename("#{path}.tmp", path)
    end
  end

  def perform(_index)
    self.class.ran!
  end
end

# Active Job's own "Performing/Performed" INFO lines are silenced in both measurements.
ActiveJob::Base.logger = Logger.new(IO::NULL, level: Logger::WARN)
