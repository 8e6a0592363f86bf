# frozen_string_literal: true

# A broker that cannot be reached is published as Karafka's `librdkafka.error`, with an
# Rdkafka::RdkafkaError carrying librdkafka's code and the consumer and subscription group ids
# (after Karafka's error_callback_subscription scenario).
require_relative '../helper'

setup_karafka(allow_errors: true) do |config|
  config.kafka = { 'bootstrap.servers': '127.0.0.1:9090' } # nothing listens there
end
setup_active_job
draw_routes(create_topics: false) { active_job_topic DT.topic }

errors = Queue.new
Karafka::App.monitor.subscribe('error.occurred') { |event| errors << event }

start_karafka_and_wait_until { !errors.empty? }

event = errors.pop
assert event.is_a?(Karafka::Core::Monitoring::Event), "the event is a #{event.class}"
assert_equal 'error.occurred', event.id
assert_equal 'librdkafka.error', event[:type]
assert event[:error].is_a?(Rdkafka::RdkafkaError), "the error is a #{event[:error].class}"
assert_equal :transport, event[:error].code
assert_equal false, event[:subscription_group_id].empty?
assert event[:consumer_group_id].include?(DT.consumer_group), event[:consumer_group_id]
