# frozen_string_literal: true

module Karafka
  module Web
    # The "Recurring" page (App includes this): the routes' recurring tasks with their state,
    # and enable / disable / trigger buttons, each confirmed before it is applied (a command
    # record on the state topic, as `karafka recurring` writes).
    module RecurringPage
      ACTIONS = %w[enable disable trigger].freeze

      private

      def recurring_locals
        declared = RecurringTasks.declared?
        { declared: declared, rows: declared ? RecurringTasks.list : [] }
      end

      # "action:id" from a row's button.
      def recurring_command
        action, id = @request.POST['item_action'].to_s.split(':', 2)
        raise ArgumentError, "unknown action #{action}" unless ACTIONS.include?(action)
        raise ArgumentError, 'the routes declare no recurring_tasks' unless RecurringTasks.declared?

        [action, RecurringTasks.schedule.ids_for(id.to_s)]
      end

      def confirm_recurring
        action, ids = recurring_command
        page('confirm', { action_path: 'recurring/apply', title: "#{action.capitalize} recurring task(s)",
                          fields: { 'item_action' => "#{action}:#{ids.size == 1 ? ids.first : '*'}" },
                          items: ids, describe: ->(id) { id }, back: url('recurring') })
      end

      def apply_recurring
        action, ids = recurring_command
        ids.each { |id| RecurringTasks.public_send(action, id) }
        redirect('recurring', notice: "#{action.capitalize}: #{ids.join(', ')} (applied by the owner within " \
                                      "#{RecurringTasks.config.interval} ms)")
      end
    end
  end
end
