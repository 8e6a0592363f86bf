# frozen_string_literal: true

# Karafka::App.assignments (Karafka's assignments tracker) says, from inside a job, which
# partitions this process owns, keyed by the routed topic; generations count assignments; after
# the server stopped it owns nothing.
require_relative '../helper'

setup_karafka
setup_active_job
draw_routes { active_job_topic(DT.topic) { config(partitions: 2) } }

class AssignmentsJob < ActiveJob::Base
  queue_as DT.topic

  def perform
    Karafka::App.assignments.each do |topic, partitions|
      DT[:seen] << [topic.name, topic.consumer_group.id, partitions, topic.equal?(Karafka::App.routes.topics.first)]
    end
    DT[:generation] << Karafka::Instrumentation::AssignmentsTracker.generation(DT.topic, 0)
  end
end

AssignmentsJob.perform_later
start_karafka_and_wait_until { DT[:seen].any? }

assert_equal [[DT.topic, DT.consumer_group, [0, 1], true]], DT[:seen] # keyed by the routed topic itself
assert_equal [1], DT[:generation]
assert_equal({}, Karafka::App.assignments)
