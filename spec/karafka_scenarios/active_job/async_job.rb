# frozen_string_literal: true

# A job dispatched with produce_async runs once, with its arguments.
require_relative '../helper'

setup_karafka
setup_active_job
draw_routes do
  consumer_group DT.consumer_group do
    active_job_topic DT.topic
  end
end

class AsyncJob < ActiveJob::Base
  queue_as DT.topic
  karafka_options(dispatch_method: :produce_async)

  def perform(first, second)
    DT[0] << first
    DT[0] << second
  end
end

first = rand
second = rand
AsyncJob.perform_later(first, second)
start_karafka_and_wait_until { DT[0].size >= 2 }

assert_equal [first, second], DT[0]
assert_equal 1, DT.data.size
