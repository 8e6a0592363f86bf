# frozen_string_literal: true

$LOAD_PATH.unshift(File.expand_path('../lib', __dir__))

require 'active_job'
require 'karafka'
require 'securerandom'

Dir[File.join(__dir__, 'support', '*.rb')].each { |file| require file }
require_relative 'fixtures/jobs'

ActiveJob::Base.logger = Logger.new(nil)
ActiveJob::Base.queue_adapter = :karafka

# The spec process is a Karafka app too (it enqueues); the server runs as a child process.
def configure_spec_app
  Karafka::App.reset!
  Karafka::App.setup do |config|
    config.kafka = { 'bootstrap.servers': SpecKafka.bootstrap }
    config.client_id = 'karafka_rs_spec'
    config.logger = Logger.new(nil)
  end
end
configure_spec_app

# The lane this run is on (bin/lane sets KARAFKA_LANE; plain `rspec` is the host lane). A spec
# that only makes sense on one lane says so with `lane: :host` or `lane: :modern` and a
# `lane_reason:`; on the other lane it is reported as pending with that reason.
SPEC_LANE = ENV.fetch('KARAFKA_LANE', 'host').to_sym

RSpec.configure do |config|
  # Everything under spec/integration runs against the real broker (and most of it a
  # `karafka server` child process); a spec elsewhere that needs the broker says `:integration`.
  # `rspec --tag ~integration` runs the unit specs alone, in seconds, with no broker.
  config.define_derived_metadata(file_path: %r{/spec/integration/}) { |meta| meta[:integration] = true }
  config.define_derived_metadata do |meta|
    next unless meta[:lane]

    reason = meta.fetch(:lane_reason) { raise ArgumentError, "#{meta[:location]}: `lane:` needs a `lane_reason:`" }
    meta[:skip] = "#{meta[:lane]} lane only: #{reason}" unless meta[:lane] == SPEC_LANE
  end
  config.include SpecWaiting
  config.include SpecKafka
  config.include SpecJobs
  config.include FailureScenario
  config.order = :defined
  config.disable_monkey_patching!
  config.expect_with(:rspec) { |c| c.syntax = :expect }
end
