# frozen_string_literal: true

# The process goes through Karafka's states (Operations/Signals-and-States) and publishes each
# change as `app.<state>`, with the state already set when listeners hear of it: initialized
# once configured, running, stopping, stopped, then terminated.
require_relative '../helper'

heard = []
%w[app.initialized app.running app.stopping app.stopped app.terminated].each do |name|
  Karafka.monitor.subscribe(name) { |_event| heard << [name, Karafka::App.state] }
end

assert Karafka::App.initializing?, "a fresh process is initializing, not #{Karafka::App.state}"
setup_karafka
assert Karafka::App.initialized?, "a configured one is initialized, not #{Karafka::App.state}"
setup_active_job
draw_routes { active_job_topic DT.topic }

class StateJob < ActiveJob::Base
  queue_as DT.topic

  def perform
    DT[0] << Karafka::App.state
  end
end

StateJob.perform_later
start_karafka_and_wait_until { DT[0].size >= 1 }

assert_equal [:running], DT[0]
expected = [%w[app.initialized initialized], %w[app.running running], %w[app.stopping stopping],
            %w[app.stopped stopped], %w[app.terminated terminated]]
assert_equal(expected, heard.map { |name, state| [name, state.to_s] })
assert Karafka::App.terminated? && Karafka::App.done?, "terminated at the end, not #{Karafka::App.state}"
