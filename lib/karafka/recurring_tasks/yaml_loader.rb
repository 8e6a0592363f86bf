# frozen_string_literal: true

require 'yaml'

module Karafka
  module RecurringTasks
    # Solid Queue's `config/recurring.yml`, for apps moving from it:
    #
    #   production:
    #     cleanup:
    #       class: CleanupJob
    #       args: [42, { status: "stale" }]
    #       queue: maintenance
    #       schedule: every 5 minutes
    #     purge:
    #       command: "Session.purge_expired"
    #       schedule: "0 3 * * * Europe/Paris"
    #
    # Top-level keys naming environments are read for `Karafka.env`; a file without them is a
    # list of tasks. `class` tasks run `Class.set(queue:, priority:).perform_later(*args)`;
    # `command` tasks evaluate their Ruby on the owner, as Solid Queue does.
    module YamlLoader
      KEYS = %w[class command args queue priority schedule description enabled].freeze

      module_function

      # @param path [String]
      # @param schedule [Schedule] where the tasks are added
      # @param env [String]
      # @return [Schedule]
      def load(path, schedule, env: Karafka.env.to_s)
        document = YAML.safe_load(File.read(path), aliases: true) || {}
        raise invalid(path, 'the top level must be a mapping') unless document.is_a?(Hash)

        tasks = environments?(document, env) ? (document[env] || {}) : document
        tasks.each { |id, options| add(schedule, path, id, options) }
        schedule
      end

      # Environment names at the top level: this environment's, or only mappings of mappings.
      def environments?(document, env)
        return true if document.key?(env)

        document.values.all? { |value| value.nil? || (value.is_a?(Hash) && value.values.all? { |task| task.is_a?(Hash) }) }
      end

      def add(schedule, path, id, options)
        raise invalid(path, "task #{id.inspect} must be a mapping") unless options.is_a?(Hash)

        unknown = options.keys - KEYS
        raise invalid(path, "task #{id.inspect}: unknown keys #{unknown.join(', ')}") unless unknown.empty?
        raise invalid(path, "task #{id.inspect} needs `schedule`") unless options['schedule']

        schedule.schedule(id: id, cron: options['schedule'], enabled: options.fetch('enabled', true),
                          description: options['description'], &runner(path, id, options))
      end

      def runner(path, id, options)
        if options['class']
          class_name = options['class'].to_s
          args = Array(options['args'])
          settings = { queue: options['queue'], priority: options['priority'] }.compact
          -> { Object.const_get(class_name).set(settings).perform_later(*args) }
        elsif options['command']
          command = options['command'].to_s
          -> { eval(command, TOPLEVEL_BINDING, path) } # rubocop:disable Security/Eval -- Solid Queue's `command`
        else
          raise invalid(path, "task #{id.inspect} needs `class` or `command`")
        end
      end

      def invalid(path, reason)
        Errors::InvalidConfigurationError.new("recurring tasks file #{path}: #{reason}")
      end
    end
  end
end
