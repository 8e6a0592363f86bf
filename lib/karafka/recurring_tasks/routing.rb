# frozen_string_literal: true

module Karafka
  module RecurringTasks
    # `routes.draw { recurring_tasks ... }`, mixed into Routing::Builder.
    module Routing
      # What Karafka's `recurring_tasks(true) { |schedules_topic, logs_topic| ... }` yields:
      # `schedules_topic.config.replication_factor = 3` is used by `karafka topics migrate`.
      TopicConfig = Struct.new(:partitions, :replication_factor, :settings)
      Declared = Struct.new(:name, :config)

      # Declares recurring tasks. The block either defines tasks
      # (`recurring_tasks { schedule(id: 'cleanup', cron: '*/5 * * * *') { CleanupJob.perform_later } }`)
      # or, taking two arguments, configures the topics as in Karafka.
      # @param active [Boolean]
      # @param file [String, nil] a Solid Queue style recurring.yml to load
      # @param version [String, nil] the schedule version (see {RecurringTasks.define})
      # (The positional Boolean is Karafka's signature: `recurring_tasks(true) { ... }`.)
      def recurring_tasks(active = true, file: nil, version: nil, &block) # rubocop:disable Style/OptionalBooleanParameter
        RecurringTasks.activate(active)
        schedule = RecurringTasks.schedule
        schedule.version = version.to_s if version
        RecurringTasks.load_file(file) if file
        return unless block

        if block.arity == 2
          block.call(recurring_tasks_topic, Declared.new(RecurringTasks.config.topics.logs, TopicConfig.new(1, 1, {})))
        else
          schedule.instance_exec(&block)
        end
      end

      # @api private (routing filters): `[[state topic, group id]]` when declared
      def recurring_tasks_names
        RecurringTasks.declared? ? [[RecurringTasks.topic, RecurringTasks.config.group_id]] : []
      end

      # @api private (`karafka topics`): the state topic's declaration
      # @return [Declared]
      def recurring_tasks_topic
        @recurring_tasks_topic ||= Declared.new(RecurringTasks.topic, TopicConfig.new(1, 1, {}))
      end
    end
  end
end
