# frozen_string_literal: true

# Child process of the exit_unreachable scenario: an app process that enqueues CHAOS_COUNT
# async jobs to CHAOS_BOOTSTRAP (where no broker listens) and exits normally, as a
# `rails runner` would. Every error.occurred it sees is appended to CHAOS_EVENTS.
$LOAD_PATH.unshift(File.expand_path('../../lib', __dir__))
require 'active_job'
require 'karafka'
require_relative 'jobs'

ActiveJob::Base.logger = Logger.new(nil)
ActiveJob::Base.queue_adapter = :karafka
Karafka::App.setup do |config|
  config.kafka = { 'bootstrap.servers': ENV.fetch('CHAOS_BOOTSTRAP') }
  config.client_id = 'karafka_rs_chaos_exit'
  config.logger = Logger.new($stderr)
end
events = File.open(ENV.fetch('CHAOS_EVENTS'), 'a')
events.sync = true
[Karafka.monitor, Karafka.producer.monitor].uniq.each do |monitor|
  monitor.subscribe('error.occurred') { |event| events.puts("#{event[:type]}: #{event[:error]&.message}") }
end
Integer(ENV.fetch('CHAOS_COUNT')).times { |i| ChaosJob.set(queue: 'chaos-exit').perform_later("j#{i}") }
