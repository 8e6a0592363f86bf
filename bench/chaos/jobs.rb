# frozen_string_literal: true

require 'json'

# What every chaos job does when it runs: append one JSON line (one write(2), O_APPEND, so
# lines of concurrent servers never interleave) to CHAOS_OUTPUT with the job's id, key, pid,
# where it came from (topic/partition/offset) and when it started and finished, in both
# CLOCK_MONOTONIC (system-wide on Linux, so comparable across processes) and epoch seconds.
# The checker (lib/figures.rb) compares these lines with what the driver enqueued.
module ChaosRecorder
  MUTEX = Mutex.new

  module_function

  # @param id [String] the job's chaos id
  # @param key [String, nil] its partitioner key
  # @param provider_job_id [String] "topic/partition/offset"
  def run(id, key, provider_job_id, sleep_ms)
    started_mono = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    started = Process.clock_gettime(Process::CLOCK_REALTIME)
    sleep(sleep_ms / 1000.0) if sleep_ms.positive?
    _topic, partition, offset = provider_job_id.to_s.split('/')
    line = JSON.generate('id' => id, 'k' => key, 'pid' => Process.pid, 'p' => partition&.to_i, 'o' => offset&.to_i,
                         'ms' => started_mono, 'mf' => Process.clock_gettime(Process::CLOCK_MONOTONIC),
                         's' => started, 'f' => Process.clock_gettime(Process::CLOCK_REALTIME))
    MUTEX.synchronize { file.write("#{line}\n") }
  end

  def file
    @file = nil if @pid != Process.pid
    @file ||= File.open(ENV.fetch('CHAOS_OUTPUT'), 'a').tap do |f|
      @pid = Process.pid
      f.sync = true
    end
  end
end

# A job without a key (lands on a random partition). `_padding` makes the message bigger, so
# fewer fit in the server's prefetch.
class ChaosJob < ActiveJob::Base
  def perform(id, sleep_ms = 0, _padding = nil)
    ChaosRecorder.run(id, nil, provider_job_id, sleep_ms)
  end
end

# Same, dispatched with produce_sync.
class ChaosSyncJob < ChaosJob
  karafka_options(dispatch_method: :produce_sync)
end

# A job with a partitioner key: jobs of one key are ordered and must never run at once.
class ChaosKeyedJob < ActiveJob::Base
  karafka_options(partitioner: ->(job) { job.arguments[1] }, partition_key_type: :key)

  def perform(id, key, sleep_ms = 0)
    ChaosRecorder.run(id, key, provider_job_id, sleep_ms)
  end
end
