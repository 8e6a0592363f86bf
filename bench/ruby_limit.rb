# frozen_string_literal: true

# (a) of bench/throughput.rb in a process of its own: the same work without Kafka, a tight
# `ActiveJob::Base.execute(JSON.parse(payload))` loop over BENCH_JOBS serialized BenchJobs,
# timed once, after WARM_UP jobs run untimed. Prints the jobs/s.
# Why one pass, as each server is one run: throughput.rb compares the best of its servers with
# the best of the (a)s around them, and on this VM one pass swings by up to ±30% within a
# minute, so the best of three passes per (a) (as until 2026-12-07) was the best of three
# times as many tries as the servers had: a yardstick that moved with the noise.
# Why a fresh process per measurement: a process that has enqueued runs the loop slower (a
# larger heap), which a fresh one, like the server, has not.
require_relative 'support'
require_relative 'bench_job'

# Method caches and Active Job's lazily loaded constants, which the server's first jobs pay
# for inside its timed window: left out here, so (a) errs on the fast side.
WARM_UP = 1_000

payloads = Array.new(Integer(ENV.fetch('BENCH_JOBS', '50000'))) { |index| JSON.generate(BenchJob.new(index).serialize) }
payloads.first(WARM_UP).each { |payload| ActiveJob::Base.execute(JSON.parse(payload)) }
started = now
payloads.each { |payload| ActiveJob::Base.execute(JSON.parse(payload)) }
puts payloads.size / (now - started)
