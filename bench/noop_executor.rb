# frozen_string_literal: true

# BENCH_NOOP (bench/engine_cost.rb): the server's executor runs no job, only the benchmark's
# counter, so what a server then spends per job is the engine's own cost (claiming, the call
# into Ruby, the payload and key Strings, completing, committing). Same parameters as
# Executor#call: a splat would allocate per call.
module NoopExecutor
  def call(_payload, _topic, _partition, _offset, _key, _headers, _attempt, _timestamp_ms = nil)
    BenchJob.ran!
    Karafka::ActiveJob::Outcome::SUCCESS
  end
end
Karafka::ActiveJob::Executor.prepend(NoopExecutor)
