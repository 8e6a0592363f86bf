# frozen_string_literal: true

# (a) of bench/throughput.rb in a process of its own: the same work without Kafka, a tight
# `ActiveJob::Base.execute(JSON.parse(payload))` loop over BENCH_JOBS serialized BenchJobs,
# timed once, after BenchJob::WARM_UP jobs run untimed. Prints its jobs/s and the median
# jobs/s of its 1,000-job stretches (JSON).
# Why one pass, as each server is one run: throughput.rb compares the best of its servers with
# the best of the (a)s around them, and on this VM one pass swings by up to ±30% within a
# minute, so the best of three passes per (a) (as until 2026-12-07) was the best of three
# times as many tries as the servers had: a yardstick that moved with the noise.
# Why a fresh process per measurement: a process that has enqueued runs the loop slower (a
# larger heap), which a fresh one, like the server, has not.
require_relative 'support'
require_relative 'bench_job'

payloads = Array.new(Integer(ENV.fetch('BENCH_JOBS', '50000'))) { |index| JSON.generate(BenchJob.new(index).serialize) }
payloads.first(BenchJob::WARM_UP).each { |payload| ActiveJob::Base.execute(JSON.parse(payload)) }
# Stamped every 1,000 jobs, as the server's timeline (bench_job.rb), outside the per-job loop.
stamps = [now]
payloads.each_slice(1_000) do |slice|
  slice.each { |payload| ActiveJob::Base.execute(JSON.parse(payload)) }
  stamps << now
end
stretches = stamps.each_cons(2).map { |from, to| 1_000 / (to - from) }.sort
puts JSON.generate(rate: payloads.size / (stamps.last - stamps.first), median_stretch: stretches[stretches.size / 2])
