# frozen_string_literal: true

# A server child process on fresh topics, for one failure scenario.
module FailureScenario
  def start_scenario(partitions: 1, dlq: nil, pause_timeout: 100, concurrency: 2, env: {})
    @topic = create_topic('failures', partitions: partitions)
    @dlq_topic = dlq == :topic ? create_topic('dead-jobs') : dlq
    @group = unique_group
    @output = File.join(Dir.tmpdir, "failures-#{SecureRandom.hex(4)}.jsonl")
    spec_env = { 'SPEC_PAUSE_TIMEOUT' => pause_timeout.to_s }.merge(env)
    spec_env['SPEC_DLQ'] = dlq_spec(dlq) if dlq
    @server = ServerProcess.new(topics: [@topic], group: @group, output: @output,
                                concurrency: concurrency, env: spec_env).start
  end

  def dlq_spec(dlq)
    return dlq if dlq.is_a?(String) && dlq.include?(':')

    "#{@dlq_topic}:#{@dlq_retries || 2}:#{@dlq_independent || false}"
  end

  def records
    JobRecorder.read(@output)
  end

  def records_of(id)
    records.select { |r| r['id'] == id }
  end

  def enqueue(klass, *args, partition: nil)
    job = job_for(@topic, klass, *args)
    return Karafka.producer.produce_sync(topic: @topic, payload: JSON.generate(job.serialize), partition: partition) if partition

    job.enqueue
    Karafka.producer.flush
    job
  end

  # Produces a raw (possibly malformed) message, as a buggy or foreign producer would.
  def produce_raw(payload, partition: 0)
    Karafka.producer.produce_sync(topic: @topic, payload: payload, partition: partition)
  end

  # @return [Array<Hash>] `{ payload:, headers:, key:, offset: }` of the dead letters
  def dead_letters(count, timeout_ms: 20_000)
    Karafka::Admin.read_topic(@dlq_topic, 0, count, timeout_ms: timeout_ms).map do |message|
      { payload: message.raw_payload, headers: message.headers, key: message.key, offset: message.offset }
    end
  end
end
