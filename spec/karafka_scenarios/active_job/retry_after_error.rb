# frozen_string_literal: true

# A job that raises is retried after the pause (backoff) and succeeds; the error is reported.
require_relative '../helper'

setup_karafka(allow_errors: %w[consumer.consume.error])
setup_active_job
draw_routes { active_job_topic DT.topic }

Karafka.monitor.subscribe('error.occurred') { |event| DT[:errors] << event[:type] }

class FlakyOnceJob < ActiveJob::Base
  queue_as DT.topic

  def perform
    if DT[0].empty?
      DT[0] << 'failed'
      raise StandardError, 'first attempt'
    end
    DT[0] << 'ran'
  end
end

FlakyOnceJob.perform_later
start_karafka_and_wait_until { DT[0].size >= 2 }

assert_equal %w[failed ran], DT[0]
assert_equal ['consumer.consume.error'], DT[:errors]
