# frozen_string_literal: true

require 'socket'

module Karafka
  module RecurringTasks
    # The part of `karafka server` that fires recurring tasks, when the routes declare them.
    #
    # Every process is a member of the state topic's consumer group (Membership); the one Kafka
    # assigns the partition to is the candidate owner, and its `karafka.recurring.scheduler`
    # thread does the work below.
    #
    # Taking over: write an `owner` record with a fresh token, then read the topic to its end.
    # The log's order decides: the owner is the writer of the last `owner` record, and `task:`
    # records with another token are ignored (see State). Firing a tick: write the `task:`
    # record (status `firing`), read to its offset and check this process still owns the
    # topic, run the block, flush the producer, write `done` (or `failed`). So a tick is
    # never fired twice; a process dying between its `firing` record and `done` leaves the
    # tick not fired again, and the next owner reports it (`recurring_tasks.task.unconfirmed`).
    class Runner
      # @param app [Class<App>]
      # @param monitor [Instrumentation::Monitor]
      # @param schedule [Schedule]
      # @param on_failure [#call, nil] called with the error when a thread of this runner dies
      #   (the server stops, as for its own threads)
      def initialize(app, monitor, schedule = RecurringTasks.schedule, on_failure: nil)
        @on_failure = on_failure
        @monitor = monitor
        @schedule = schedule
        @config = app.config.recurring_tasks
        @store = Store.new(@config.topics.schedules)
        @mutex = Mutex.new
        @wakeup = ConditionVariable.new
        @stopping = false
        @token = nil
        @skips_reported = {}
        check_topic
        @membership = Membership.new(app, monitor, @store.topic, on_change: -> { wake }, thread: method(:thread))
      end

      # @return [self]
      def start
        @membership.start
        @scheduler = thread('scheduler') { schedule_loop }
        self
      end

      # Stops firing first, then leaves the group (so another process takes over at once).
      def stop
        @mutex.synchronize { @stopping = true }
        wake
        @scheduler&.join
        @membership.stop
      rescue StandardError => e
        @monitor.instrument('error.occurred', { type: 'recurring_tasks.stop', error: e })
      end

      private

      # A missing state topic is a boot error; a broker that does not answer yet is not (the
      # consumer waits for it, as the job engines do).
      def check_topic
        return if Admin.topics.key?(@store.topic)

        raise Errors::InvalidConfigurationError,
              "recurring tasks: the topic #{@store.topic} does not exist; run `karafka topics migrate`"
      rescue Errors::AdminError => e
        Karafka.logger.warn("Recurring tasks: could not check the topic #{@store.topic}: #{e.message}")
      end

      def wake
        @mutex.synchronize { @wakeup.signal }
      end

      def thread(name, &block)
        Thread.new do
          Thread.current.name = "karafka.recurring.#{name}"
          block.call
        rescue Exception => e # rubocop:disable Lint/RescueException -- reported, never silent
          @monitor.instrument('error.occurred', { type: "recurring_tasks.#{name}", error: e })
          @on_failure&.call(e)
        end
      end

      def schedule_loop
        until stopping_after(@next_wake)
          @next_wake = nil
          begin
            # The token and the state belong to this thread; without the partition, no token.
            if @membership.assigned?
              step
            else
              @token = nil
            end
          rescue StandardError => e
            @monitor.instrument('error.occurred', { type: 'recurring_tasks.scheduler', error: e })
            @token = nil # take over again, from a fresh read
          end
        end
      end

      # Waits until `wake` (a Time; nil: `interval`) or a change of assignment; true when stopping.
      def stopping_after(wake)
        @mutex.synchronize do
          unless @stopping
            timeout = wake ? wake - Time.now : @config.interval / 1000.0
            @wakeup.wait(@mutex, timeout) if timeout.positive?
          end
          @stopping
        end
      end

      def step
        @state ||= State.new
        @store.read_to_end(@state)
        return unless @token ? owner? : take_over

        fire_due
      end

      def owner?
        return true if @state.owner == @token

        Karafka.logger.warn("Recurring tasks: another process took the state topic #{@store.topic} over")
        @token = nil
        false
      end

      def take_over
        if @state.version && Gem::Version.new(@state.version) > Gem::Version.new(@schedule.version)
          version_error
          return false
        end

        token = SecureRandom.uuid
        @store.write('owner', { token: token, version: @schedule.version, process: process_name, at: Time.now.to_f })
        @state = @store.read_to_end(State.new)
        return false unless @state.owner == token

        @token = token
        Karafka.logger.info("Recurring tasks: #{process_name} fires the schedule (version #{@schedule.version})")
        report_unconfirmed
        true
      end

      def version_error
        return if @version_reported == @state.version

        @version_reported = @state.version
        @monitor.instrument('error.occurred', {
                              type: 'recurring_tasks.version',
                              error: Errors::InvalidConfigurationError.new(
                                "recurring tasks: this process' schedule version #{@schedule.version} is older than " \
                                "#{@state.version}, which fired last; it fires nothing"
                              )
                            })
      end

      def report_unconfirmed
        @state.task_ids.each do |id|
          record = @state.fired(id)
          next unless record['status'] == 'firing'

          tick = record['tick'] && Time.at(record['tick'])
          @monitor.instrument('error.occurred', {
                                type: 'recurring_tasks.task.unconfirmed', task_id: id, tick: tick,
                                error: Errors::BaseError.new(
                                  "recurring task #{id}: the previous owner stopped while firing #{tick}; " \
                                  'it may not have run and is not fired again'
                                )
                              })
        end
      end

      # A `fire` that returns false lost the ownership: nothing more fires (the `return`s).
      # rubocop:disable Lint/NonLocalExitFromIterator
      def fire_due
        now = Time.now
        wakes = [now + (@config.interval / 1000.0)]
        @schedule.tasks.each_value do |task|
          if (offset = @state.pending_trigger(task.id)) && !fire(task, nil, offset)
            return
          end
          next unless @state.enabled?(task)

          record = @state.fired(task.id)
          unless record && record['tick']
            baseline(task, record, now)
            next wakes << task.next_tick(now)
          end
          due(task, Time.at(record['tick']), now).each { |tick| return unless fire(task, tick, nil) }
          wakes << task.next_tick([Time.at(record['tick']), now].max)
        end
        @next_wake = wakes.min
      end
      # rubocop:enable Lint/NonLocalExitFromIterator

      # A task no owner has seen yet: its ticks count from now.
      def baseline(task, record, now)
        @store.write("task:#{task.id}", record_for(task, now.to_i, record && record['trigger_offset'], 'baseline'))
        @store.read_to_end(@state)
      end

      # Ticks after the last one handled, after the last enable and within `catch_up`.
      def due(task, last, now)
        window = now - @config.catch_up
        skipped = task.next_tick(last)
        # Once per task and last tick: a daily task may have no tick inside the window yet.
        if skipped <= window && @skips_reported[task.id] != last
          @skips_reported[task.id] = last
          @monitor.instrument('error.occurred', {
                                type: 'recurring_tasks.task.skipped', task_id: task.id,
                                error: Errors::BaseError.new(
                                  "recurring task #{task.id}: ticks from #{skipped} to #{window} are older than " \
                                  "config.recurring_tasks.catch_up (#{@config.catch_up}s) and were skipped"
                                )
                              })
        end
        task.ticks_between([last, window, @state.enabled_at(task.id)].compact.max, now)
      end

      # @return [Boolean] false when this process turned out not to own the topic any more
      def fire(task, tick, trigger_offset)
        previous = @state.fired(task.id) || {}
        tick_value = tick ? tick.to_i : previous['tick']
        trigger_value = trigger_offset || previous['trigger_offset']
        key = "task:#{task.id}"
        @store.write(key, record_for(task, tick_value, trigger_value, 'firing'))
        @store.read_to_end(@state)
        return false unless owner?

        status = execute(task, tick || Time.now, tick ? :schedule : :trigger)
        @store.write(key, record_for(task, tick_value, trigger_value, status))
        true
      end

      def execute(task, tick, reason)
        @monitor.instrument('recurring_tasks.task.executed', { task: task, tick: tick, reason: reason }) do
          task.execute(tick)
        end
        # The jobs it enqueued are on the broker before the tick is recorded as done.
        producer = Karafka.producer
        producer.flush if producer.respond_to?(:flush)
        'done'
      rescue StandardError => e
        @monitor.instrument('error.occurred', { type: 'recurring_tasks.task.execute.error', error: e,
                                                task: task, tick: tick })
        'failed'
      end

      def record_for(task, tick, trigger_offset, status)
        { token: @token, id: task.id, tick: tick, trigger_offset: trigger_offset, status: status,
          at: Time.now.to_f, process: process_name }
      end

      def process_name
        @process_name ||= "#{Socket.gethostname}:#{::Process.pid}"
      end
    end
  end
end
