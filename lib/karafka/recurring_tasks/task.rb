# frozen_string_literal: true

module Karafka
  module RecurringTasks
    # One recurring task: an id, a fugit schedule (cron with optional seconds and time zone,
    # or fugit's natural "every 5 minutes") and the block the owner runs at each tick.
    class Task
      # Karafka's rule for task ids.
      ID_FORMAT = /\A[a-zA-Z0-9_-]+\z/

      # @return [String]
      attr_reader :id
      # @return [String] the schedule as declared
      attr_reader :cron
      # @return [String, nil]
      attr_reader :description

      # @param id [String, Symbol]
      # @param cron [String] e.g. `'*/5 * * * *'`, `'0 9 * * * Europe/Paris'`, `'* * * * * *'`
      #   (every second), `'every 5 minutes'`
      # @param enabled [Boolean] whether it runs until `disable` / `enable` says otherwise
      # @param description [String, nil] shown by `karafka recurring list` and the dashboard
      # @param block [Proc] run by the owner at each tick; it may take the tick (a Time)
      # @raise [Errors::InvalidConfigurationError] naming the task
      def initialize(id:, cron:, enabled: true, description: nil, &block)
        @id = id.to_s
        @cron = cron.to_s
        @enabled = enabled ? true : false
        @description = description
        @block = block
        raise invalid("its id must match #{ID_FORMAT.inspect}") unless @id.match?(ID_FORMAT)
        raise invalid('it needs a block') unless block

        @schedule = self.class.parse(@cron) or raise invalid("fugit cannot parse the schedule #{@cron.inspect}")
      end

      # @param text [String]
      # @return [Fugit::Cron, nil]
      def self.parse(text)
        require_fugit
        parsed = ::Fugit::Cron.parse(text) || ::Fugit.parse_nat(text)
        parsed.is_a?(::Fugit::Cron) ? parsed : nil
      end

      # fugit is needed only by apps that declare recurring tasks.
      def self.require_fugit
        require 'fugit'
      rescue LoadError
        raise Errors::InvalidConfigurationError,
              'recurring tasks need the fugit gem: add `gem "fugit"` to the Gemfile (Debian: ruby-fugit)'
      end

      # @return [Boolean] whether it runs when no enable/disable command was given
      def enabled_by_default?
        @enabled
      end

      # @param time [Time]
      # @return [Time] the first tick strictly after `time`
      def next_tick(time)
        @schedule.next_time(time).to_t
      end

      # The ticks in `(after, up_to]`, oldest first.
      # @param after [Time]
      # @param up_to [Time]
      # @return [Array<Time>]
      def ticks_between(after, up_to)
        ticks = []
        tick = next_tick(after)
        while tick <= up_to
          ticks << tick
          tick = next_tick(tick)
        end
        ticks
      end

      # Runs the block now (Karafka's `Task#execute`, for specs: no state, no events).
      # @param tick [Time]
      def execute(tick = Time.now)
        @block.arity.zero? ? @block.call : @block.call(tick)
      end

      private

      def invalid(reason)
        Errors::InvalidConfigurationError.new("recurring task #{@id.inspect}: #{reason}")
      end
    end
  end
end
