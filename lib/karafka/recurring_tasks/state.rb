# frozen_string_literal: true

module Karafka
  module RecurringTasks
    # What the state topic says, built by applying its records in offset order. Record keys
    # (the topic is compacted: the latest record per key is what counts):
    # - `schedule`      `{ version: }`, written by an owner when it takes over
    # - `task:ID`       `{ token:, tick:, trigger_offset:, status:, at: }`, written only by the
    #                   owner: `tick` is the last tick handled (epoch seconds), `trigger_offset`
    #                   the last trigger command handled; `status` is `firing` (written before
    #                   the block runs), `done` / `failed` (after) or `baseline` (first seen)
    # - `enabled:ID`    `{ enabled:, at: }`, from `enable` / `disable` (CLI, dashboard, API)
    # - `trigger:ID`    `{ at: }`, from `trigger`; pending while its offset is above the task's
    #                   `trigger_offset`
    class State
      # @return [Integer] the offset after the last record applied
      attr_reader :next_offset
      # @return [String, nil] the schedule version of the current owner
      attr_reader :version
      # @return [String, nil] the current owner's token
      attr_reader :owner

      def initialize
        @next_offset = 0
        @version = nil
        @owner = nil
        @fired = {}
        @enabled = {}
        @triggers = {}
      end

      # @param offset [Integer]
      # @param key [String, nil]
      # @param payload [String, nil] JSON, or nil for a tombstone
      def apply(offset, key, payload)
        return if offset < @next_offset

        @next_offset = offset + 1
        record = payload && JSON.parse(payload)
        kind, id = key.to_s.split(':', 2)
        case kind
        when 'owner' then @owner, @version = record&.values_at('token', 'version')
        when 'task' then store(@fired, id, record) if current?(record)
        when 'enabled' then store(@enabled, id, record)
        when 'trigger' then record ? @triggers[id] = offset : @triggers.delete(id)
        end
      rescue JSON::ParserError
        nil # not ours: another tool wrote to the topic; it changes nothing
      end

      # @param offset [Integer] where the next read starts (offsets below it hold nothing to apply)
      def advance_to(offset)
        @next_offset = offset if offset > @next_offset
      end

      # @return [Array<String>] ids of tasks with a `task:` record
      def task_ids
        @fired.keys
      end

      # @return [Hash, nil] the owner's last `task:ID` record
      def fired(id)
        @fired[id]
      end

      # @param task [Task]
      # @return [Boolean] the last enable/disable command, else the task's default
      def enabled?(task)
        command = @enabled[task.id]
        command ? command['enabled'] == true : task.enabled_by_default?
      end

      # @return [Time, nil] when the task was last enabled by a command
      def enabled_at(id)
        command = @enabled[id]
        command && command['enabled'] == true ? Time.at(command['at'].to_f) : nil
      end

      # @return [Integer, nil] the offset of a trigger command not handled yet
      def pending_trigger(id)
        offset = @triggers[id] or return nil
        handled = @fired.dig(id, 'trigger_offset') || -1
        offset > handled ? offset : nil
      end

      private

      # A `task:` record counts unless a later owner had taken over when it was written. (After
      # compaction removed older `owner` records, records before the surviving one count: at
      # worst a deposed owner's `firing` record, whose tick it did not fire, is taken as fired.)
      def current?(record)
        record.nil? || @owner.nil? || record['token'] == @owner
      end

      def store(map, id, record)
        record ? map[id] = record : map.delete(id)
      end
    end
  end
end
