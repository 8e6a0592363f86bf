# frozen_string_literal: true

# karafka_options refuses an unknown dispatch method when the class declares it.
require_relative '../helper'

setup_active_job

def refused?
  yield
  false
rescue Karafka::Errors::InvalidConfigurationError
  true
end

OptionsJob = Class.new(ActiveJob::Base)

assert_equal(true, refused? { OptionsJob.karafka_options(dispatch_method: :na) })
assert_equal(false, refused? { OptionsJob.karafka_options(dispatch_method: :produce_async) })
assert_equal(true, refused? { OptionsJob.karafka_options(dispatch_method: rand) })
