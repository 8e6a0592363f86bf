# frozen_string_literal: true

# Enqueues the browser test's jobs: `ruby enqueue.rb TOPIC` (KAFKA_BOOTSTRAP, SPEC_OUTPUT set).
# Prints the failing job's id, which the test then finds on the Dead letters page.
$LOAD_PATH.unshift(File.expand_path('../../lib', __dir__))
require 'active_job'
require 'karafka'
require_relative '../fixtures/jobs'

ActiveJob::Base.logger = Logger.new(nil)
ActiveJob::Base.queue_adapter = :karafka
Karafka::App.setup { |config| config.kafka = { 'bootstrap.servers': ENV.fetch('KAFKA_BOOTSTRAP') } }

topic = ARGV.fetch(0)
# Held until the test writes SPEC_OUTPUT.release: it shows on Jobs, and the jobs behind it lag.
jobs = [HeldJob.new('held', "#{ENV.fetch('SPEC_OUTPUT')}.release")]
jobs << FlakyJob.new('browser-flaky', 2) # fails twice: dead-lettered (max_retries 1), then retried by the test
jobs.each do |job|
  job.queue_name = topic
  job.enqueue
end
Karafka.producer.flush
puts jobs.last.job_id
