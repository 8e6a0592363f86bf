# frozen_string_literal: true

# With config.strict_declarative_topics, routes.draw refuses a topic without an active
# declarative definition and a dead letter topic that no route declares, as Karafka's does;
# without it, both are accepted.
require_relative '../helper'

setup_karafka { |config| config.strict_declarative_topics = true }

def valid_routes?(&block)
  draw_routes(create_topics: false) { instance_eval(&block) }
  true
rescue Karafka::Errors::InvalidConfigurationError
  false
ensure
  Karafka::App.routes.clear
end

inactive = proc { active_job_topic('a') { config(active: false) } }
plain = proc { active_job_topic('a') }
undeclared_dlq = proc { active_job_topic('a') { dead_letter_queue(topic: 'dlq') } }
routed_dlq = proc do
  active_job_topic('a') { dead_letter_queue(topic: 'dlq') }
  topic('dlq') { active(false) }
end
inactive_dlq = proc do
  active_job_topic('a') { dead_letter_queue(topic: 'dlq') }
  topic('dlq') do
    active(false)
    config(active: false)
  end
end

assert !valid_routes?(&inactive)
assert valid_routes?(&plain)
assert !valid_routes?(&undeclared_dlq)
assert valid_routes?(&routed_dlq)
assert !valid_routes?(&inactive_dlq)

Karafka::App.config.strict_declarative_topics = false

assert valid_routes?(&inactive_dlq)
assert valid_routes?(&undeclared_dlq)
