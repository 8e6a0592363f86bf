# frozen_string_literal: true

require 'spec_helper'

# Dead letters the producer or the DLQ topic cannot take whole, and what a dead letter keeps
# of an odd job (a tombstone, a forged source_* header, a key or none).
RSpec.describe 'Dead letters at the limits' do
  after { @server&.ensure_stopped }

  def dead_letter_of(partition, among:)
    among.find { |m| m[:headers]['source_partition'] == partition.to_s }
  end

  it 'dead-letters a job too large to dead-letter whole as a truncated copy, reports it, and runs the next job' do
    @dlq_retries = 0
    start_scenario(dlq: :topic)
    huge = 'x' * 999_000 # the job topic takes it; with the source_* headers it exceeds message.max.bytes
    produce_raw(huge)
    enqueue(RecordingJob, 'after-huge')

    wait_until(message: -> { "the job after the huge one; log:\n#{@server.log[-3000..]}" }) { records_of('after-huge').any? }
    dead = dead_letters(1).first
    expect(dead[:payload]).to eq(huge[0, 10_000])
    expect(dead[:headers]).to include('source_payload_truncated' => '999000', 'source_offset' => '0',
                                      'source_error_class' => 'JSON::ParserError')
    expect(@server.log).to include('dead_letter_queue.truncated', 'first 10000 of 999000 bytes')
    wait_until(message: 'both offsets committed') { committed_total(@group, @topic) == 2 }
  end

  it "never fails one partition's dead letter with another's refused one (DLQ topic with a small max.message.bytes)" do
    @dlq_retries = 0
    @dlq_topic = "dead-jobs-#{SecureRandom.hex(4)}"
    Karafka::Admin.create_topic(@dlq_topic, 1, 1, 'max.message.bytes' => 50_000)
    start_scenario(partitions: 2, dlq: @dlq_topic, concurrency: 2)
    big = 'y' * 100_000 # fits the job topic, not the DLQ topic
    # One call: both arrive together, fail together and are dead-lettered at the same moment.
    Karafka.producer.produce_many_sync([{ topic: @topic, payload: 'small and bad', partition: 0 },
                                        { topic: @topic, payload: big, partition: 1 }])

    dead = wait_until(message: -> { "both dead letters; log:\n#{@server.log[-3000..]}" }) do
      found = dead_letters(2, timeout_ms: 1_000)
      found if found.size == 2
    end
    small = dead_letter_of(0, among: dead)
    expect(small[:payload]).to eq('small and bad')
    expect(small[:headers]).not_to have_key('source_payload_truncated')
    expect(dead_letter_of(1, among: dead)[:headers]).to include('source_payload_truncated' => '100000')
    expect(@server.log).not_to include("dead_letter_queue.dispatch_error (#{@topic}/0/")
  end

  it 'keeps a tombstone null, replaces forged source_* headers, and sets source_key only for keyed jobs' do
    @dlq_retries = 0
    start_scenario(dlq: :topic)
    Karafka.producer.produce_sync(topic: @topic, payload: nil, partition: 0)
    Karafka.producer.produce_sync(topic: @topic, payload: 'bad', partition: 0,
                                  headers: { 'source_topic' => 'forged', 'source_key' => 'forged-key', 'trace' => 't-1' })
    Karafka.producer.produce_sync(topic: @topic, payload: 'bad too', key: 'user-7', partition: 0)

    dead = wait_until(message: -> { "three dead letters; log:\n#{@server.log[-3000..]}" }) do
      found = dead_letters(3, timeout_ms: 1_000)
      found if found.size == 3
    end
    tombstone, forged, keyed = dead
    expect(tombstone[:payload]).to be_nil
    expect(tombstone[:headers]).to include('source_offset' => '0')
    expect(forged[:headers]).to include('source_topic' => @topic, 'trace' => 't-1')
    expect(forged[:headers]).not_to have_key('source_key')
    expect(keyed[:headers]).to include('source_key' => 'user-7')
    expect(keyed[:key]).to eq('user-7')
  end
end
