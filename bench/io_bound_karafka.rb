# frozen_string_literal: true

# The I/O-bound job of bench/io_bound.rb, and the boot file (KARAFKA_BOOT_FILE) of its
# `karafka server` child. IoJob waits 5 ms (`sleep`, as a call to another service would).
# In the server (BENCH_STATS set) every run is timed; the BENCH_JOBS-th run writes the
# figures to the BENCH_STATS file as JSON. Times are CLOCK_MONOTONIC (system-wide on Linux).
require 'json'

class IoJob < ActiveJob::Base
  WAIT = 0.005
  STATS = ENV['BENCH_STATS']
  EXPECTED = Integer(ENV.fetch('BENCH_JOBS', '0'))

  # perform(index, route): route is the partition (partition_key_type :partition) or the key
  # (:key) of the message; the parent picks the type per measurement.
  karafka_options(partitioner: ->(job) { job.arguments.last })

  @lock = Mutex.new
  @stats = { count: 0, busy: 0.0, gaps: 0.0, gap_count: 0, first: nil, last: 0.0 }

  class << self
    def clock = Process.clock_gettime(Process::CLOCK_MONOTONIC)

    # Process CPU seconds and context switches (all threads) - at the first and last job.
    def usage
      switches = Dir['/proc/self/task/*/status'].sum do |path|
        File.read(path).scan(/ctxt_switches:\s+(\d+)/).sum { |(count)| Integer(count) }
      rescue Errno::ENOENT # a thread that just exited
        0
      end
      { cpu: Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID), switches: switches }
    end

    # busy: time inside perform (the sleep, plus waiting for the GVL after it);
    # gaps: per worker thread, from the end of its previous job to the start of this one.
    def ran(started, ended, previous_end)
      first, done = @lock.synchronize do
        s = @stats
        s[:first] ||= (first = started)
        s[:last] = [s[:last], ended].max
        s[:busy] += ended - started
        if previous_end
          s[:gaps] += started - previous_end
          s[:gap_count] += 1
        end
        [first, (s[:count] += 1) == EXPECTED]
      end
      @stats[:usage_first] = usage if first
      File.write(STATS, JSON.generate(@stats.merge(usage_last: usage))) if done
    end
  end

  def perform(_index, _route)
    started = self.class.clock
    sleep WAIT
    ended = self.class.clock
    previous_end = Thread.current[:io_job_end]
    Thread.current[:io_job_end] = ended
    self.class.ran(started, ended, previous_end) if STATS
  end
end

ActiveJob::Base.logger = Logger.new(IO::NULL, level: Logger::WARN)
# The parent (bench/io_bound.rb) and the Sidekiq server (bench/sidekiq_boot.rb) only need the job class.
return if !IoJob::STATS || defined?(Sidekiq::CLI)

ActiveJob::Base.queue_adapter = :karafka

class KarafkaApp < Karafka::App
  setup do |config|
    config.kafka = { 'bootstrap.servers': ENV.fetch('KAFKA_BOOTSTRAP', '127.0.0.1:9092') }
    config.client_id = 'karafka_rs_bench'
    config.group_id = ENV.fetch('BENCH_GROUP')
    config.concurrency = Integer(ENV.fetch('BENCH_CONCURRENCY'))
    config.max_wait_time = 100
    config.logger = Logger.new($stdout, level: Logger::WARN)
  end

  routes.draw do
    active_job_topic ENV.fetch('BENCH_TOPIC') do
      # BENCH_LANES: virtual partitions by message key, that many lanes.
      lanes = ENV['BENCH_LANES']
      virtual_partitions(partitioner: ->(message) { message.key }, max_partitions: Integer(lanes)) if lanes
    end
  end
end
