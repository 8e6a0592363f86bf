# frozen_string_literal: true

# A job dispatched with produce_sync is on the broker when perform_later returns, and runs once.
require_relative '../helper'

setup_karafka
setup_active_job
draw_routes { active_job_topic DT.topic }

class SyncJob < ActiveJob::Base
  queue_as DT.topic
  karafka_options(dispatch_method: :produce_sync)

  def perform(value)
    DT[0] << value
  end
end

value = rand
SyncJob.perform_later(value)
assert_equal 1, Karafka::Admin.read_watermark_offsets(DT.topic, 0).last
start_karafka_and_wait_until { DT[0].size >= 1 }

assert_equal [value], DT[0]
