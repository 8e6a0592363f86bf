# frozen_string_literal: true

# A job that keeps failing goes to the dead letter queue after max_retries, with the source
# headers, and the jobs behind it run.
require_relative '../helper'

setup_karafka(allow_errors: %w[consumer.consume.error])
setup_active_job
DLQ = DT.topics[1]
draw_routes do
  active_job_topic DT.topic do
    dead_letter_queue(topic: DLQ, max_retries: 1)
  end
  active_job_topic(DLQ) { active(false) }
end

class BrokenJob < ActiveJob::Base
  queue_as DT.topic

  def perform(value)
    DT[:attempts] << value
    raise StandardError, 'always' if value == 'broken'

    DT[0] << value
  end
end

BrokenJob.perform_later('broken')
BrokenJob.perform_later('fine')
start_karafka_and_wait_until { DT[0].size >= 1 }

assert_equal %w[broken broken fine], DT[:attempts]
dead = Karafka::Admin.read_topic(DLQ, 0, 10)
assert_equal 1, dead.size
assert_equal DT.topic, dead.first.headers['source_topic']
assert_equal '0', dead.first.headers['source_partition']
assert_equal '0', dead.first.headers['source_offset']
