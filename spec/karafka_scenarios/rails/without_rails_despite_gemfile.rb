# frozen_string_literal: true

# `KARAFKA_REQUIRE_RAILS=false`: Rails is installed (in the Gemfile) but this process runs
# Karafka without it, as Karafka documents: Rails is never required and jobs still run.
ENV['KARAFKA_REQUIRE_RAILS'] = 'false'

require_relative '../helper'

assert_equal false, Karafka.rails?
assert_equal false, Object.const_defined?(:Rails), 'Rails was not loaded'

setup_karafka { |config| config.concurrency = 1 }
setup_active_job
draw_routes { active_job_topic DT.topic }

class EchoJob < ActiveJob::Base
  queue_as DT.topic

  def perform(value)
    DT[0] << value
  end
end

EchoJob.perform_later('b')
start_karafka_and_wait_until { DT[0].size >= 1 }

assert_equal ['b'], DT[0]
assert_equal false, Object.const_defined?(:Rails), 'nor later'
