# frozen_string_literal: true

# librdkafka's statistics are published as Karafka's `statistics.emitted`, per consumer group,
# with Karafka's deltas (after Karafka's statistics_callback_subscription scenario).
require_relative '../helper'

setup_karafka
setup_active_job
draw_routes { active_job_topic DT.topic }

statistics = Queue.new
Karafka::App.monitor.subscribe('statistics.emitted') { |event| statistics << event }

start_karafka_and_wait_until { !statistics.empty? }

event = statistics.pop
assert event.is_a?(Karafka::Core::Monitoring::Event), "the event is a #{event.class}"
assert_equal 'statistics.emitted', event.id
assert event[:subscription_group_id] != '', 'a subscription group id'
assert event[:consumer_group_id].include?(DT.consumer_group), event[:consumer_group_id]
assert event[:statistics].is_a?(Hash), 'the statistics as a Hash'
assert_equal 0, event[:statistics]['txmsgs_d']
assert event[:statistics]['name'].include?(Karafka::App.config.client_id), event[:statistics]['name']
