# frozen_string_literal: true

module Karafka
  module Setup
    # `config.recurring_tasks.*` (Karafka Pro's names; see README "Recurring jobs").
    class RecurringTasksConfig
      # `config.recurring_tasks.topics.*`
      class Topics
        # @return [String] the compacted, one-partition state topic
        attr_accessor :schedules
        # @return [String] accepted for Karafka compatibility: karafka-rs writes no logs topic
        #   (executions are instrumented as `recurring_tasks.task.executed`)
        attr_accessor :logs

        def initialize
          @schedules = 'karafka_recurring_tasks_schedules'
          @logs = 'karafka_recurring_tasks_logs'
        end
      end

      # @return [String] the consumer group whose member owns the state topic's partition
      attr_accessor :group_id
      # @return [Integer] ms between two reads of the state topic for enable / disable /
      #   trigger commands (ticks themselves fire on time)
      attr_accessor :interval
      # @return [Integer] seconds: a new owner fires ticks missed up to this long ago (a
      #   failover, a deploy with every process down); older ones are skipped and reported
      attr_accessor :catch_up
      # @return [Boolean] accepted for Karafka compatibility (no logs topic here)
      attr_accessor :logging
      # @return [Topics]
      attr_reader :topics

      def initialize
        @group_id = 'karafka_recurring_tasks'
        @interval = 5_000
        @catch_up = 600
        @logging = true
        @topics = Topics.new
      end
    end
  end
end
