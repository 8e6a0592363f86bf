# frozen_string_literal: true

# Each job is published as active_job.consume / active_job.consumed with what correlates it to
# its topic and message: the job hash, a Karafka::Messages::Message and a Karafka::BaseConsumer
# caller; only consumed carries `time`. An app's own event, registered on the monitor's
# notifications bus, can be instrumented from inside a job.
require_relative '../helper'

setup_karafka
setup_active_job
draw_routes { active_job_topic DT.topic }

Karafka.monitor.notifications_bus.register_event('app.custom.event')
Karafka::App.monitor.subscribe('active_job.consume') { |event| DT[:consume] << event }
Karafka::App.monitor.subscribe('active_job.consumed') { |event| DT[:consumed] << event }
Karafka::App.monitor.subscribe('app.custom.event') { |event| DT[:custom] << event[:time] }

class EventsJob < ActiveJob::Base
  queue_as DT.topic

  def perform(number)
    return unless number.zero?

    Karafka.monitor.instrument('app.custom.event') { sleep(0.2) } # a job's own slow step
  end
end

2.times { |number| EventsJob.perform_later(number) }

start_karafka_and_wait_until { DT[:consumed].size >= 2 }

%i[consume consumed].each do |name|
  DT[name].each_with_index do |event, index|
    assert_equal DT.topic, event[:job]['queue_name']
    assert_equal [index], event[:job]['arguments']
    assert event[:message].is_a?(Karafka::Messages::Message), "#{name}: message is a #{event[:message].class}"
    assert_equal index, event[:message].offset
    assert event[:caller].is_a?(Karafka::BaseConsumer), "#{name}: caller is a #{event[:caller].class}"
    assert_equal name == :consumed, event.payload.key?(:time)
  end
end
assert_equal 1, DT[:custom].size
assert DT[:custom].first >= 200, "the custom event timed its block: #{DT[:custom].first} ms"
