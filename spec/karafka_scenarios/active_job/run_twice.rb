# frozen_string_literal: true

# The server runs, stops, is reset (status, listeners, connection manager) and runs again in the
# same process: the second run takes up after the first one's committed offset.
require_relative '../helper'

setup_karafka
setup_active_job
draw_routes { active_job_topic DT.topic }

class CountedJob < ActiveJob::Base
  queue_as DT.topic
  karafka_options(dispatch_method: :produce_sync)

  def perform(value)
    DT[0] << value
  end
end

CountedJob.perform_later(1)
start_karafka_and_wait_until(reset_status: true) { DT[0].size >= 1 }
assert Karafka::Server.listeners.all?(&:pending?)
assert_equal 1, fetch_next_offset

# The first run closed the default producer, as Karafka's does: a new one for the second.
Karafka::App.config.producer = WaterDrop::Producer.new do |config|
  config.kafka = Karafka::Setup::AttributesMap.producer(Karafka::App.config.kafka.dup)
end
CountedJob.perform_later(2)
start_karafka_and_wait_until { DT[0].size >= 2 }

assert_equal [1, 2], DT[0]
