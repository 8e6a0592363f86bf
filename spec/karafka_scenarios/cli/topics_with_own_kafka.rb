# frozen_string_literal: true

# A route's own `kafka(...)` settings, as Karafka writes them: another cluster's topic is left
# to that cluster by `karafka topics` (Karafka's ignore_non_primary_cluster scenario), one
# with extra client settings on the same cluster is managed, the topic reads its settings
# back (merged over config.kafka with `inherit: true`), and the server, which consumes every
# topic with config.kafka, refuses to start with either among its topics, naming them.
require_relative '../helper'

setup_karafka
setup_active_job

draw_routes(create_topics: false) do
  active_job_topic DT.topics[0] do
    kafka('bootstrap.servers': '127.0.0.1:9091')
  end

  active_job_topic DT.topics[1] do
    kafka('fetch.max.bytes': 1_048_576, inherit: true)
  end
end

routed = Karafka::App.routes.map { |group| group.topics.to_a }.flatten
assert_equal({ 'bootstrap.servers': '127.0.0.1:9091' }, routed[0].kafka)
assert_equal Karafka::App.config.kafka.merge('fetch.max.bytes': 1_048_576), routed[1].kafka

ARGV.replace(%w[topics create])
capture_stdout { Karafka::Cli.start }

cluster_topics = Karafka::Admin.cluster_info.topics.map { |topic| topic.fetch(:topic_name) }
assert !cluster_topics.include?(DT.topics[0])
assert cluster_topics.include?(DT.topics[1])

refused = nil
begin
  Karafka::Server.run
rescue Karafka::Errors::UnsupportedFeatureError => e
  refused = e.message
end
assert refused.to_s.include?("#{DT.topics[0]}, #{DT.topics[1]} set kafka(...) settings of their own"), refused.inspect
