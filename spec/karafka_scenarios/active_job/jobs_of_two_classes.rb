# frozen_string_literal: true

# Two job classes on one topic, enqueued alternately, each run in enqueue order; afterwards the
# group's offset is past every job (Karafka::Admin reads it back).
require_relative '../helper'

setup_karafka
setup_active_job
draw_routes { active_job_topic DT.topic }

class FirstKindJob < ActiveJob::Base
  queue_as DT.topic

  def perform(value)
    DT[0] << value
  end
end

class SecondKindJob < ActiveJob::Base
  queue_as DT.topic

  def perform(value)
    DT[1] << value
  end
end

values = Array.new(10) { rand }
values.each do |value|
  FirstKindJob.perform_later(value)
  SecondKindJob.perform_later(value)
end
start_karafka_and_wait_until { DT[0].size >= 10 && DT[1].size >= 10 }

assert_equal values, DT[0]
assert_equal values, DT[1]
assert_equal 20, fetch_next_offset
