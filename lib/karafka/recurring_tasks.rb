# frozen_string_literal: true

require 'securerandom'
require_relative 'recurring_tasks/task'
require_relative 'recurring_tasks/schedule'
require_relative 'recurring_tasks/yaml_loader'
require_relative 'recurring_tasks/state'
require_relative 'recurring_tasks/store'
require_relative 'recurring_tasks/membership'
require_relative 'recurring_tasks/runner'

module Karafka
  # Recurring jobs (Karafka Pro's Recurring Tasks): tasks with a fugit schedule, fired by the
  # one process that owns the state topic's single partition. Nothing here runs, and fugit is
  # not loaded, unless the routes declare `recurring_tasks`. See README "Recurring jobs".
  module RecurringTasks
    # One row of {.list}.
    # `last_run`: when the owner last fired it (by its schedule or a trigger), `status`: `done`,
    # `failed` or `firing` then.
    Row = Struct.new(:id, :cron, :description, :enabled, :last_run, :status, :next_tick, keyword_init: true)

    class << self
      # Replaces the schedule (Karafka's `Karafka::Pro::RecurringTasks.define('1.0.0') { ... }`).
      # @param version [String] a process whose version is below the one the state topic's
      #   owner recorded does not fire (rolling deploys)
      # @return [Schedule]
      def define(version = '0', &block)
        schedule = Schedule.new(version)
        schedule.instance_exec(&block) if block
        App::STORE[:recurring_tasks_schedule] = schedule
      end

      # @return [Schedule] the tasks this process knows (empty until defined)
      def schedule
        App::STORE[:recurring_tasks_schedule] ||= Schedule.new
      end

      # Adds the tasks of a Solid Queue style `recurring.yml` (see {YamlLoader}).
      # @param path [String]
      # @return [Schedule]
      def load_file(path)
        YamlLoader.load(path.to_s, schedule)
      end

      # @return [Boolean] whether the routes declared `recurring_tasks` (and this process'
      #   routing filter lets its consumer group through)
      def active?
        return false unless App::STORE[:recurring_tasks_active]

        App.routes.filter.active?(topic: topic, consumer_group: config.group_id, subscription_group: nil)
      end

      # @api private (routing): switches the feature on or off
      def activate(value)
        App::STORE[:recurring_tasks_active] = value ? true : false
      end

      # @return [Boolean] declared in the routes, whatever this process' filter
      def declared?
        App::STORE[:recurring_tasks_active] == true
      end

      # @return [String] the state topic
      def topic
        config.topics.schedules
      end

      # @return [Setup::RecurringTasksConfig]
      def config
        App.config.recurring_tasks
      end

      # Enables a task (or `'*'`: every task): it fires from its next tick on; ticks missed
      # while it was disabled are not caught up.
      # @param id [String]
      def enable(id)
        schedule.ids_for(id).each { |task_id| store.write("enabled:#{task_id}", { enabled: true, at: Time.now.to_f }) }
      end

      # Disables a task (or `'*'`) until it is enabled again.
      # @param id [String]
      def disable(id)
        schedule.ids_for(id).each { |task_id| store.write("enabled:#{task_id}", { enabled: false, at: Time.now.to_f }) }
      end

      # Fires a task (or `'*'`) once as soon as the owner reads the command (within
      # `config.recurring_tasks.interval`), enabled or not; its schedule is unchanged.
      # @param id [String]
      def trigger(id)
        schedule.ids_for(id).each { |task_id| store.write("trigger:#{task_id}", { at: Time.now.to_f }) }
      end

      # @return [Array<Row>] every task of the schedule with what the state topic says of it
      def list
        state = store.read_to_end(State.new)
        now = Time.now
        schedule.tasks.values.map do |task|
          fired = state.fired(task.id)
          enabled = state.enabled?(task)
          ran = fired && fired['status'] != 'baseline'
          Row.new(id: task.id, cron: task.cron, description: task.description, enabled: enabled,
                  last_run: ran ? Time.at(fired['at']) : nil, status: ran ? fired['status'] : nil,
                  next_tick: enabled ? task.next_tick(now) : nil)
        end
      end

      # @return [Store]
      def store
        Store.new(topic)
      end
    end
  end
end

module Karafka
  # Karafka Pro's namespace, for apps written against it (`Karafka.pro?` is true here).
  module Pro
    # `Karafka::Pro::RecurringTasks.define('1.0.0') { ... }`, `.enable(id)`, ...
    RecurringTasks = ::Karafka::RecurringTasks
  end
end
