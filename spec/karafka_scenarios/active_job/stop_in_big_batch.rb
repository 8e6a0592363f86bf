# frozen_string_literal: true

# A stop in the middle of a big fetched batch does not run the rest of it first.
require_relative '../helper'

setup_karafka do |config|
  config.max_wait_time = 5_000
  config.max_messages = 1_000
end
setup_active_job
draw_routes do
  consumer_group DT.consumer_group do
    active_job_topic DT.topic
  end
end

class BatchJob < ActiveJob::Base
  queue_as DT.topic

  def perform(value)
    DT[0] << value
    sleep(0.5) # the job's work, slower than the stop
  end
end

jobs = Array.new(100) { |value| BatchJob.new(value) }
ActiveJob.respond_to?(:perform_all_later) ? ActiveJob.perform_all_later(jobs) : jobs.each(&:enqueue)
start_karafka_and_wait_until { DT[0].size >= 3 }

assert DT[0].size <= 5, "ran #{DT[0].size} jobs after the stop"
assert_equal (0...DT[0].size).to_a, DT[0]
assert_equal DT[0].size, fetch_next_offset
