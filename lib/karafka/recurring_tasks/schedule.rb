# frozen_string_literal: true

module Karafka
  module RecurringTasks
    # The tasks this process knows (`Karafka::RecurringTasks.define`, `recurring_tasks { ... }`
    # in the routes, or a Solid Queue style YAML file) and the version of that definition.
    class Schedule
      # @return [String]
      attr_reader :version
      # @return [Hash{String => Task}]
      attr_reader :tasks

      # @param version [String]
      def initialize(version = '0')
        self.version = version
        @tasks = {}
      end

      # @param value [String] compared as a Gem::Version ('1', '1.2.0', '2024.06.01')
      # @raise [Errors::InvalidConfigurationError] for one that is not a version number
      def version=(value)
        unless Gem::Version.correct?(value.to_s)
          raise Errors::InvalidConfigurationError,
                "recurring tasks: version #{value.inspect} is not a version number (e.g. '1.0.0')"
        end

        @version = value.to_s
      end

      # The DSL: `schedule(id: 'cleanup', cron: '*/5 * * * *') { CleanupJob.perform_later }`.
      # @return [Task]
      # @raise [Errors::InvalidConfigurationError] when the id is taken
      def schedule(id:, cron:, enabled: true, description: nil, &block)
        task = Task.new(id: id, cron: cron, enabled: enabled, description: description, &block)
        if @tasks.key?(task.id)
          raise Errors::InvalidConfigurationError, "recurring task #{task.id.inspect} is scheduled twice"
        end

        @tasks[task.id] = task
      end

      # @return [Boolean]
      def empty?
        @tasks.empty?
      end

      # @param id [String] a task id, or `'*'` for every task
      # @return [Array<String>] the ids it names
      # @raise [Errors::InvalidConfigurationError] for an unknown id
      def ids_for(id)
        return @tasks.keys if id.to_s == '*'
        return [id.to_s] if @tasks.key?(id.to_s)

        raise Errors::InvalidConfigurationError,
              "no recurring task #{id.inspect}; known: #{@tasks.keys.join(', ')}"
      end
    end
  end
end
