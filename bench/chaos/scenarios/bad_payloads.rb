# frozen_string_literal: true

# The bad-payload matrix: each kind of bad message sits on its own partition between a good
# job before it and a good job after it, on a topic with a dead letter queue (max_retries 1)
# and on one without. With a DLQ every partition must move on (the good job after runs) and
# the bad message must be in the DLQ with the real source_* headers; without one, the
# partition retries it (the good job after waits) and the server keeps running. A third part
# (defect 3): a DLQ topic with a small max.message.bytes refuses partition 1's large dead
# letter; partition 0's small one must still go through.
require_relative '../lib/chaos'

job = ->(klass, *args) { klass.new(*args).serialize }
gen = ->(hash) { JSON.generate(hash) }
unknown = ->(id) { job.call(ChaosJob, id).merge('job_class' => 'NoSuchJob') }
non_utf8_argument = gen.call(job.call(ChaosJob, 'XX-ARG')).b.sub('XX-ARG', "bad \xff\xfe bytes".b)
huge_base = gen.call(unknown.call('huge').merge('arguments' => ['huge', '']))
huge_job = gen.call(unknown.call('huge').merge('arguments' => ['huge', 'x' * (999_000 - huge_base.bytesize)]))
KINDS = {
  'not JSON' => ['this is not json {'],
  'empty payload' => [''],
  'tombstone (null payload)' => [nil],
  'JSON null' => ['null'],
  'JSON array' => ['[1,2,3]'],
  'JSON string' => ['"a string"'],
  'JSON that is not a job' => ['{"hello":"world"}'],
  'no job_class' => [gen.call(job.call(ChaosJob, 'no-class').tap { |h| h.delete('job_class') })],
  'unknown job class' => [gen.call(unknown.call('unknown'))],
  'a class that is not a job' => [gen.call(job.call(ChaosJob, 'string').merge('job_class' => 'String'))],
  'bad arguments (arity)' => [gen.call(job.call(ChaosJob, 'arity', 1, 2, 3).merge('arguments' => ['arity', 1, 2, 3]))],
  'arguments not an array' => [gen.call(job.call(ChaosJob, 'x').merge('arguments' => 'oops'))],
  'arguments that cannot be deserialized' =>
    [gen.call(job.call(ChaosJob, 'x').merge('arguments' => [{ '_aj_globalid' => 'gid://chaos/Nope/1' }]))],
  'non-UTF-8 bytes' => ["{\"job_class\":\"\xff\xfe\"}".b],
  'non-UTF-8 argument in a job' => [non_utf8_argument],
  'Marshal dump' => [Marshal.dump(job.call(ChaosJob, 'marshal'))],
  'deep JSON nesting' => [('[' * 100_000) + (']' * 100_000)],
  'binary garbage' => [Random.new(7).bytes(1_000)],
  '900,000-byte non-job' => ['x' * 900_000],
  '999,000-byte non-JSON' => ['z' * 999_000],
  '999,000-byte job of an unknown class' => [huge_job],
  'forged source_* headers' => [gen.call(unknown.call('forged')),
                                { 'source_topic' => 'forged', 'source_partition' => '999', 'source_offset' => '999',
                                  'source_error_class' => 'Forged' }]
}.freeze

Chaos.scenario('bad_payloads', "the bad-payload matrix (#{KINDS.size} kinds) with and without a DLQ, and a DLQ refusing one partition's dead letter") do |s|
  s.connect(s.broker.bootstrap)
  kinds = KINDS.keys
  good = lambda do |topic, partition, id|
    s.enqueued << id
    Karafka.producer.produce_sync(topic: topic, partition: partition,
                                  payload: gen.call(s.job(ChaosJob, topic, id).serialize))
  end
  lay_out = lambda do |topic, variant|
    kinds.each_with_index do |kind, partition|
      payload, headers = KINDS[kind]
      good.call(topic, partition, "#{variant}/#{partition}:before")
      Karafka.producer.produce_sync({ topic: topic, partition: partition, payload: payload, headers: headers }.compact)
      good.call(topic, partition, "#{variant}/#{partition}:after") if variant == 'dlq'
    end
  end

  dlq_topic = s.topic('dead', partitions: 1)
  with_dlq = s.topic('bad-dlq', partitions: kinds.size)
  without = s.topic('bad-nodlq', partitions: kinds.size)
  lay_out.call(with_dlq, 'dlq')
  lay_out.call(without, 'nodlq')
  # Not in enqueued: without a DLQ these are meant to wait behind the bad message.
  kinds.each_index do |partition|
    Karafka.producer.produce_sync(topic: without, partition: partition,
                                  payload: gen.call(s.job(ChaosJob, without, "nodlq/#{partition}:after").serialize))
  end

  small_dlq = s.topic('dead-small', partitions: 1, config: { 'max.message.bytes' => '20000' })
  two = s.topic('bad-small', partitions: 2)
  [[0, 'not json, small'], [1, 'y' * 50_000]].each do |partition, payload|
    good.call(two, partition, "small/#{partition}:before")
    Karafka.producer.produce_sync(topic: two, partition: partition, payload: payload)
    good.call(two, partition, "small/#{partition}:after")
  end

  started = Chaos.now
  s.server(with_dlq, env: { 'CHAOS_DLQ' => dlq_topic, 'CHAOS_GROUP' => "#{s.group}-dlq" })
  s.server(without, env: { 'CHAOS_GROUP' => "#{s.group}-nodlq" })
  s.server(two, env: { 'CHAOS_DLQ' => small_dlq, 'CHAOS_GROUP' => "#{s.group}-small" })
  wait = [90 * Chaos::SCALE, 20].max
  s.wait_for(s.enqueued.size, timeout: wait, what: 'every good job that should run')
  sleep 3 # a no-DLQ partition that wrongly moves on would show its after job by now
  s.servers.each { |server| server.stop('TERM') }
  elapsed = Chaos.now - started

  counts = s.records.refresh.counts
  dead = Karafka::Admin.read_topic(dlq_topic, 0, kinds.size * 2, timeout_ms: 5_000)
  by_payload = dead.group_by { |m| m.raw_payload.to_s.b }
  rows = kinds.each_with_index.map do |kind, partition|
    payload, = KINDS[kind]
    letters = payload.to_s.empty? ? dead.select { |m| m.headers['source_partition'].to_s == partition.to_s } : by_payload[payload.b]
    letter = letters&.first
    moved = counts.key?("dlq/#{partition}:after")
    held = !counts.key?("nodlq/#{partition}:after")
    dlq_cell = if letter
                 headers = letter.headers
                 real = headers['source_topic'] == with_dlq && headers['source_partition'].to_s == partition.to_s
                 "#{letter.raw_payload.nil? ? 'null' : "#{letter.raw_payload.bytesize} B"}, #{headers['source_error_class']}" \
                   "#{real ? '' : ", source_* headers WRONG: #{headers.slice('source_topic', 'source_partition').inspect}"}"
               else
                 'NOT dead-lettered'
               end
    "| #{kind} | #{moved ? 'yes' : 'NO (blocked)'} | #{dlq_cell} | #{held ? 'held (retried)' : 'MOVED ON without a DLQ'} |"
  end
  s.figure('matrix', "\n   | kind | DLQ: partition moved on | DLQ: dead letter | no DLQ |\n   |---|---|---|---|\n   #{rows.join("\n   ")}")
  small = (0..1).map { |p| "partition #{p}: #{counts.key?("small/#{p}:after") ? 'moved on' : 'BLOCKED'}" }
  s.figure('small_dlq_refusing_partition_1', small.join(', '))
  blocked = kinds.each_index.count { |p| !counts.key?("dlq/#{p}:after") }
  s.figure('dlq_partitions_blocked', "#{blocked} of #{kinds.size} (each a good job lost behind a bad one)")
  s.figure('matrix_runtime_s', elapsed.round(1))
  errors = s.server_log_lines(/error/i).size
  s.figure('error_lines_logged', errors)
  s.note('lost = good jobs that never ran behind a bad message where a DLQ is configured')
end
