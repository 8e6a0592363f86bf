# frozen_string_literal: true

# Boot file of bench/web_reporting.rb's servers: bench/karafka.rb, plus Karafka::Web enabled
# (every report and error produced to Web topics named by BENCH_WEB_PREFIX) when BENCH_WEB=1.
require_relative 'karafka'

if ENV['BENCH_WEB'] == '1'
  Karafka::Web.setup do |config|
    prefix = ENV.fetch('BENCH_WEB_PREFIX')
    config.topics.consumers.states.name = "#{prefix}_consumers_states"
    config.topics.consumers.reports.name = "#{prefix}_consumers_reports"
    config.topics.errors.name = "#{prefix}_errors"
    config.topics.dlq_actions.name = "#{prefix}_dlq_actions"
    config.tracking.interval = Integer(ENV.fetch('BENCH_WEB_INTERVAL', '5000'))
  end
  Karafka::Web.enable!
end
