# frozen_string_literal: true

# Two checkouts' `karafka server` on the same backlog, taking turns: A=<checkout> B=<checkout>
# (each with its compiled extension in lib/karafka_rs/<ABI>/ and its bench/karafka.rb), N
# trivial jobs (BENCH_JOBS, 100,000) on BENCH_PARTITIONS (6), BENCH_ROUNDS rounds (4) in which
# A and B swap places; a fresh consumer group per server, the Ruby limit loop once per round.
# Prints each run, each side's best against the best limit, and B's mean over A's (no results
# file section: RESULTS.md quotes what it printed).
# Usage (repo root; either lane: a checkout under tmp/ is visible inside the modern lane):
#   git worktree add tmp/before HEAD~1 && cp -a lib/karafka_rs tmp/before/lib/
#   A=tmp/before B=. bin/lane modern ruby bench/versus.rb
require_relative 'support'
require_relative 'bench_job'

JOBS = Integer(ENV.fetch('BENCH_JOBS', '100000'))
PARTITIONS = Integer(ENV.fetch('BENCH_PARTITIONS', '6'))
ROUNDS = Integer(ENV.fetch('BENCH_ROUNDS', '4'))
CONCURRENCY = 5
SIDES = { 'A' => File.expand_path(ENV.fetch('A')), 'B' => File.expand_path(ENV.fetch('B')) }.freeze

def limit(payloads)
  started = now
  payloads.each { |payload| ActiveJob::Base.execute(JSON.parse(payload)) }
  payloads.size / (now - started)
end

# Steady jobs/s of one server of checkout `root` over the whole topic.
def serve(root, topic, group)
  Dir.mktmpdir('versus') do |dir|
    env = server_env(topic, dir, JOBS, group: group).merge('KARAFKA_BOOT_FILE' => File.join(root, 'bench/karafka.rb'))
    log = File.join(dir, 'server.log')
    spawn = -> { Process.spawn(env, RbConfig.ruby, "-I#{root}/lib", "#{root}/exe/karafka", 'server', chdir: root, %i[out err] => log) }
    with_child(log, spawn) do |pid, _spawned|
      wait_for(File.join(dir, 'last'), pid, 300)
      stop(pid)
    end
    first, last = %w[first last].map { |name| Float(File.read(File.join(dir, name))) }
    (JOBS - 1) / (last - first)
  end
end

topic = "versus_#{RUN_ID}"
Karafka::Admin.create_topic(topic, PARTITIONS)
jobs = Array.new(JOBS) { |index| BenchJob.new(index).tap { |job| job.queue_name = topic } }
payloads = jobs.first(50_000).map { |job| JSON.generate(job.serialize) }
jobs.each_slice(10_000) { |slice| ActiveJob.perform_all_later(slice) }
Karafka.producer.flush
rates = Hash.new { |hash, side| hash[side] = [] }
limits = []
ROUNDS.times do |round|
  limits << limit(payloads)
  (round.even? ? %w[A B] : %w[B A]).each do |side|
    rates[side] << serve(SIDES[side], topic, "#{topic}_#{side}#{round}")
    puts format('round %d %s: %.0f jobs/s (limit %.0f)', round, side, rates[side].last, limits.last)
  end
end
best_limit = limits.max
rates.each do |side, runs|
  puts format('%s (%s): best %.0f (%.3f of the best limit %.0f), median %.0f', side, SIDES[side], runs.max,
              runs.max / best_limit, best_limit, runs.sort[runs.size / 2])
end
puts format('B / A, means: %.3f', (rates['B'].sum / ROUNDS) / (rates['A'].sum / ROUNDS))
Karafka::Admin.delete_topic(topic)
