# frozen_string_literal: true

# Boot file of bench/swarm.rb's `karafka server` and `karafka swarm` children: bench/karafka.rb
# plus a progress file per consuming process, so the benchmark can count jobs across nodes
# without asking the broker (an Admin call costs ~30 ms of CPU, which the nodes need).
require_relative 'karafka'

Karafka::App.config.swarm.nodes = Integer(ENV.fetch('BENCH_NODES', '2'))

# Runs in every process that consumes (the server, or each node after the fork).
module BenchProgress
  module_function

  # `<dir>/assigned-<pid>`: the partitions this process owns now.
  def assigned(partitions)
    write("assigned-#{Process.pid}", partitions.map { |topic, partition| "#{topic}/#{partition}" }.join("\n"))
  end

  # `<dir>/count-<pid>`: "jobs_run monotonic_time_of_the_last_one monotonic_time_of_the_first",
  # every 20 ms.
  def start
    Thread.new do
      last_count = 0
      first_at = nil
      loop do
        count = BenchJob.count
        if count != last_count
          last_at = Process.clock_gettime(Process::CLOCK_MONOTONIC)
          first_at ||= last_at
          last_count = count
          write("count-#{Process.pid}", "#{count} #{last_at} #{first_at}")
        end
        sleep 0.02 # sampling period of the progress file
      end
    end
  end

  # BENCH_GATE: jobs wait until this file exists, so every job is in Kafka (and the enqueueing
  # parent idle) before the first runs: the measurement is the drain alone, not the drain
  # competing with the enqueue for the CPU (which the swarm's nodes need and one server does
  # not). Checked once per worker thread until it opens; bounded like the benchmark.
  module Gate
    PATH = ENV.fetch('BENCH_GATE', nil)
    @open = PATH.nil?

    def self.wait
      return if @open

      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + Float(ENV.fetch('BENCH_TIMEOUT', '300'))
      sleep 0.005 until File.exist?(PATH) || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
      @open = true
    end
  end

  # Prepended to BenchJob.
  module GatedPerform
    def perform(*arguments)
      Gate.wait
      super(*arguments)
    end
  end

  def write(name, text)
    path = File.join(ENV.fetch('BENCH_PROGRESS_DIR'), name)
    File.write("#{path}.tmp", text)
    File.rename("#{path}.tmp", path)
  end
end

BenchJob.prepend(BenchProgress::GatedPerform)
Karafka.monitor.subscribe('app.running') { |_event| BenchProgress.start }
Karafka.monitor.subscribe('rebalance.partitions_assigned') { |event| BenchProgress.assigned(event[:partitions]) }
Karafka.monitor.subscribe('rebalance.partitions_revoked') { |_event| BenchProgress.assigned([]) }
