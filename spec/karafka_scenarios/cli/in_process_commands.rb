# frozen_string_literal: true

# Karafka::Cli.start runs ARGV's command in a process whose app is already set up (no boot
# file), as Karafka's CLI scenarios and deploy scripts call it: no command prints the usage,
# an unknown one raises UnrecognizedCommandError, `topics plan` prints what would change,
# `topics create --detailed_exitcode` creates the declared topics and exits 2, and
# `topics repartition` adds the partitions a route declares, and fewer declared than the
# topic has are reported as ignored.
require_relative '../helper'

Consumer = Class.new(Karafka::BaseConsumer)

setup_karafka

ARGV.replace([])
capture_stdout { Karafka::Cli.start }

ARGV.replace(['unknown'])
unrecognized = false
begin
  Karafka::Cli.start
rescue Karafka::Errors::UnrecognizedCommandError
  unrecognized = true
end
assert unrecognized

Karafka::Admin.create_topic(DT.topics[1], 1, 1)

draw_routes(create_topics: false) do
  topic DT.topics[0] do
    config(partitions: 2, 'cleanup.policy': 'compact')
    consumer Consumer
  end

  active_job_topic DT.topics[1] do
    config(partitions: 3)
  end
end

ARGV.replace(%w[topics plan])
plan = capture_stdout { Karafka::Cli.start }
assert plan.include?('Following topics will be created:'), plan
assert plan.include?('Following topics will be repartitioned:'), plan
assert plan.include?(DT.topics[0]), plan

partition_counts = lambda do
  Karafka::Admin.cluster_info.topics.to_h { |topic| [topic.fetch(:topic_name), topic.fetch(:partition_count)] }
end
assert_equal nil, partition_counts.call[DT.topics[0]]

ARGV.replace(%w[topics create --detailed_exitcode])
status = nil
begin
  capture_stdout { Karafka::Cli.start }
rescue SystemExit => e
  status = e.status
end
assert_equal 2, status
assert_equal 2, partition_counts.call[DT.topics[0]]

ARGV.replace(%w[topics repartition])
capture_stdout { Karafka::Cli.start }
assert_equal 3, partition_counts.call[DT.topics[1]]

# Fewer partitions declared than the topic has: reported as ignored (Kafka cannot remove
# partitions), and no change for --detailed_exitcode.
Karafka::App.routes.clear
draw_routes(create_topics: false) do
  active_job_topic DT.topics[1] do
    config(partitions: 2)
  end
end
ARGV.replace(%w[topics plan --detailed_exitcode])
plan = capture_stdout { Karafka::Cli.start }
assert plan.include?('Following topics repartitioning will be ignored as downscaling is not supported:'), plan
assert !plan.include?('No changes needed'), plan
assert_equal 3, partition_counts.call[DT.topics[1]]

Karafka::App.routes.clear
draw_routes(create_topics: false) do
  active_job_topic(DT.topics[1]) { config(partitions: 3) }
end
plan = capture_stdout { Karafka::Cli.start }
assert plan.include?('Karafka will not perform any actions. No changes needed.'), plan
