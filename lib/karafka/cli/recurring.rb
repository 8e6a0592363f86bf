# frozen_string_literal: true

module Karafka
  class Cli
    # `karafka recurring list|enable ID|disable ID|trigger ID`: the recurring tasks of the
    # routes and their state (lib/karafka/recurring_tasks). Commands are records on the state
    # topic; the process that owns it applies them within `config.recurring_tasks.interval`.
    class Recurring < Base
      USAGE = <<~TEXT
        Usage: karafka recurring ACTION
          list           every task: schedule, enabled, last run (and its status), next tick
          enable ID      fire the task from its next tick on ('*': every task)
          disable ID     stop firing it until enabled ('*': every task)
          trigger ID     fire it once, now ('*': every task)
      TEXT

      ACTIONS = %w[list enable disable trigger].freeze

      # @param argv [Array<String>]
      # @return [Integer]
      def call(argv)
        action, id, *rest = argv
        raise UsageError, "unknown action #{action.inspect}" unless ACTIONS.include?(action)
        raise UsageError, "#{action} needs a task id" if action != 'list' && id.nil?
        raise UsageError, "unexpected argument(s) #{[id, *rest].compact.join(' ')}" if action == 'list' ? id : rest.any?

        boot
        unless RecurringTasks.declared?
          warn 'karafka: the routes declare no recurring_tasks'
          return 1
        end
        action == 'list' ? list : command(action, id)
      end

      private

      # A printf table, as `karafka topics plan` prints.
      # rubocop:disable Style/FormatStringToken
      def list
        rows = RecurringTasks.list
        puts format('%-24s %-28s %-8s %-26s %s', 'ID', 'SCHEDULE', 'ENABLED', 'LAST RUN', 'NEXT TICK')
        rows.each do |row|
          puts format('%-24s %-28s %-8s %-26s %s', row.id, row.cron, row.enabled ? 'yes' : 'no',
                      row.last_run ? "#{row.last_run.utc} (#{row.status})" : '-', row.next_tick&.utc || '-')
        end
        0
      end
      # rubocop:enable Style/FormatStringToken

      def command(action, id)
        RecurringTasks.public_send(action, id)
        puts "#{action}: #{RecurringTasks.schedule.ids_for(id).join(', ')}"
        0
      rescue Errors::InvalidConfigurationError => e
        warn "karafka: #{e.message}"
        1
      end
    end
  end
end
