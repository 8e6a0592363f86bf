# frozen_string_literal: true

# What the executor adds to a trivial job, in process (no Kafka): Active Job's own
# `execute(JSON.parse(payload))` next to `Executor#call` with the logger listener
# karafka.rb subscribes (below INFO: the plain path) and with a block subscribed to
# worker.processed (the event built per job). The variants take turns per chunk of jobs, so
# a slow minute of the VM lands on all of them alike; the differences are what to read.
# Usage (repo root, after `rake compile`; either lane): ruby bench/executor_path.rb
require_relative 'support'
require_relative 'bench_job'

CHUNK = 500
ROUNDS = Integer(ENV.fetch('BENCH_ROUNDS', '300'))

Karafka::App.setup do |config|
  config.kafka = { 'bootstrap.servers': '127.0.0.1:9092' } # never contacted
  config.logger = Logger.new($stdout, level: Logger::WARN)
end

def executor(subscribe)
  monitor = Karafka::Instrumentation::Monitor.new
  subscribe.call(monitor)
  Karafka::ActiveJob::Executor.new(monitor)
end

payloads = Array.new(CHUNK) { |index| JSON.generate(BenchJob.new(index).serialize) }
quiet = executor(->(monitor) { monitor.subscribe(Karafka::Instrumentation::LoggerListener.new) })
heard = executor(->(monitor) { monitor.subscribe('worker.processed') { |_event| nil } })
variants = {
  'Active Job alone: `execute(JSON.parse(payload))`' => ->(payload, _) { ActiveJob::Base.execute(JSON.parse(payload)) },
  '`Executor#call`, logger listener below INFO (plain path)' =>
    ->(payload, offset) { quiet.call(payload, 'bench', 0, offset, nil, nil, 0) },
  '`Executor#call`, a block on worker.processed' => ->(payload, offset) { heard.call(payload, 'bench', 0, offset, nil, nil, 0) }
}
totals = Hash.new(0.0)
ROUNDS.times do |round|
  variants.to_a.rotate(round % variants.size).each do |name, run|
    started = now
    payloads.each_with_index { |payload, offset| run.call(payload.dup, offset) }
    totals[name] += now - started
  end
end
per_job = totals.transform_values { |seconds| seconds / (ROUNDS * CHUNK) * 1e6 }
alone = per_job.values.first
rows = per_job.map { |name, us| "| #{name} | #{us.round(2)} | #{format('%+.2f', us - alone)} |" }
append_results(<<~MD)
  ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — what the executor adds to a job (`bench/executor_path.rb`)

  #{machine}; load average #{load_average}; #{ROUNDS} rounds of #{CHUNK} trivial BenchJobs per variant, taking turns.

  | variant | µs per job | added |
  |---|---|---|
  #{rows.join("\n")}
MD
