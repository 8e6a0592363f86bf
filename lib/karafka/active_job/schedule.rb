# frozen_string_literal: true

require 'securerandom'

module Karafka
  module ActiveJob
    # The message that holds a job in a schedules topic until it is due: the job's own
    # message as payload, where and when it must go as `schedule_*` headers (read by the
    # engine's schedule store, ext/karafka_rs/src/core/schedules/store.rs). The headers are Karafka Pro's
    # documented schedule format (`schedule_schema_version`, `schedule_source_type`,
    # `schedule_target_epoch` in seconds, `schedule_target_topic` / `_key` /
    # `_partition_key` / `_partition`), so a switch back to Karafka finds its schedules, plus
    # `schedule_target_epoch_ms` for karafka-rs' millisecond timer.
    module Schedule
      SCHEMA_VERSION = '1.0.0'

      module_function

      # @param target [Hash] the job's message (`topic:`, `payload:`, `key:` / `partition_key:` /
      #   `partition:`, `headers:`), as it would be produced without a schedule
      # @param schedules_topic [String]
      # @param timestamp [Numeric] epoch seconds when the job is due
      # @return [Hash] the schedule message
      def envelope(target, schedules_topic, timestamp)
        Producer::Message.from_row(envelope_row(Producer::Message.to_row(target), schedules_topic, timestamp))
      end

      # {envelope} for the dispatcher, from the job's row to the schedule's row (no Hash).
      # @param target [Native::OutgoingMessage] the job's message
      # @param schedules_topic [String]
      # @param timestamp [Numeric] epoch seconds when the job is due
      # @return [Native::OutgoingMessage] the schedule message
      def envelope_row(target, schedules_topic, timestamp)
        schedule = {
          'schedule_schema_version' => SCHEMA_VERSION,
          'schedule_source_type' => 'schedule',
          'schedule_target_topic' => target.topic.to_s,
          # Whole seconds, rounded up: a reader of seconds never dispatches early.
          'schedule_target_epoch' => timestamp.ceil.to_s,
          'schedule_target_epoch_ms' => (timestamp * 1000).round.to_s
        }
        schedule['schedule_target_key'] = target.key if target.key
        schedule['schedule_target_partition_key'] = target.partition_key if target.partition_key
        schedule['schedule_target_partition'] = target.partition.to_s if target.partition
        headers = target.headers.reject { |name, _| schedule.key?(name) } + schedule.to_a
        # A unique key per schedule ("<target topic>-<uuid>", as Karafka's documented default):
        # the tombstone written after dispatch names it.
        Native::OutgoingMessage.new(schedules_topic.to_s, target.payload, "#{target.topic}-#{SecureRandom.uuid}", nil, nil,
                                    headers)
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
