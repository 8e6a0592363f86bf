# frozen_string_literal: true

# (a) of bench/throughput.rb in a process of its own: the same work without Kafka, a tight
# `ActiveJob::Base.execute(JSON.parse(payload))` loop over BENCH_JOBS serialized BenchJobs,
# best of three passes (the first one also warms up). Prints the jobs/s.
# Why a fresh process per measurement: throughput.rb times one next to each server, so a VM
# that speeds up or slows down between runs moves both figures of a pair; and a process that
# has enqueued runs the loop slower (a larger heap), which a fresh one, like the server, has not.
require_relative 'support'
require_relative 'bench_job'

payloads = Array.new(Integer(ENV.fetch('BENCH_JOBS', '50000'))) { |index| JSON.generate(BenchJob.new(index).serialize) }
best = Array.new(3) do
  started = now
  payloads.each { |payload| ActiveJob::Base.execute(JSON.parse(payload)) }
  payloads.size / (now - started)
end.max
puts best
