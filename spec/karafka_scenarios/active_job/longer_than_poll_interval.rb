# frozen_string_literal: true

# A job that runs longer than max.poll.interval.ms runs once: the group does not take its
# partition away meanwhile and hand the job over again. Karafka's internal Active Job parts are
# readable, and a karafka_options key Karafka does not know (here `timeout`) loads with a warning.
require_relative '../helper'

setup_karafka do |config|
  config.concurrency = 2
  config.kafka[:'session.timeout.ms'] = 6_000
  config.kafka[:'max.poll.interval.ms'] = 6_000
end
setup_active_job
draw_routes do
  consumer_group DT.consumer_group do
    active_job_topic DT.topic
  end
end

class LongJob < ActiveJob::Base
  queue_as DT.topic
  karafka_options(dispatch_method: :produce_sync, timeout: 8_000)

  def perform(value)
    sleep(7) # the job's work: longer than max.poll.interval.ms
    DT[0] << value
  end
end

value = rand
LongJob.perform_later(value)
# A second after the job is done: time for it to be handed over again if it were going to be.
finished_at = nil
start_karafka_and_wait_until do
  finished_at ||= Time.now unless DT[0].empty?
  finished_at && Time.now > finished_at + 1
end

active_job = Karafka::App.config.internal.active_job
assert_equal Karafka::ActiveJob::Dispatcher, active_job.dispatcher.class
assert_equal Karafka::ActiveJob::JobOptionsContract, active_job.job_options_contract.class
assert_equal [value], DT[0]
assert_equal 1, fetch_next_offset
