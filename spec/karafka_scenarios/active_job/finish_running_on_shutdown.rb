# frozen_string_literal: true

# A stop lets the job that is running finish (and commits it); the ones not started stay for
# the next run.
require_relative '../helper'

setup_karafka { |config| config.max_wait_time = 5_000 }
setup_active_job
draw_routes do
  consumer_group DT.consumer_group do
    active_job_topic DT.topic
  end
end

class SlowJob < ActiveJob::Base
  queue_as DT.topic
  karafka_options(dispatch_method: :produce_sync)

  def perform(value)
    DT[:started] << value
    sleep(2) # the job's work, still running when the stop comes
    DT[:done] << value
  end
end

5.times { |value| SlowJob.perform_later(value) }
start_karafka_and_wait_until { DT[:started].size >= 2 }

assert_equal [0, 1], DT[:started]
assert_equal [0, 1], DT[:done]
assert_equal 2, fetch_next_offset
