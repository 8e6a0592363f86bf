# frozen_string_literal: true

require 'securerandom'

module Karafka
  module ActiveJob
    # The message that holds a job in a schedules topic until it is due: the job's own
    # message as payload, where and when it must go as `schedule_target_*` headers (read by
    # the engine's scheduler, ext/karafka_rs/src/core/schedules.rs).
    module Schedule
      module_function

      # @param target [Hash] the job's message (`topic:`, `payload:`, `key:` / `partition_key:` /
      #   `partition:`), as it would be produced without a schedule
      # @param schedules_topic [String]
      # @param timestamp [Numeric] epoch seconds when the job is due
      # @return [Hash] the schedule message
      def envelope(target, schedules_topic, timestamp)
        headers = {
          'schedule_target_topic' => target[:topic].to_s,
          'schedule_target_epoch_ms' => (timestamp * 1000).round.to_s
        }
        headers['schedule_target_key'] = target[:key] if target[:key]
        headers['schedule_target_partition_key'] = target[:partition_key] if target[:partition_key]
        headers['schedule_target_partition'] = target[:partition].to_s if target[:partition]
        # A unique key per schedule: the tombstone written after dispatch names it.
        { topic: schedules_topic.to_s, key: SecureRandom.uuid, payload: target[:payload], headers: headers }
      end

      # @param job [ActiveJob::Base]
      # @return [Float, nil] epoch seconds, when the job is scheduled in the future
      def future_time(job)
        at = job.scheduled_at
        return nil if at.nil?

        seconds = at.to_f
        seconds > Time.now.to_f ? seconds : nil
      end
    end
  end
end
