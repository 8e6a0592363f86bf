# frozen_string_literal: true

module Karafka
  module Web
    # What this server process is doing, fed by Karafka.monitor events (and Active Job's
    # `perform_start.active_job`, the only "a job starts" signal). Per job it costs one hash
    # insert and one delete under a mutex; {#snapshot} is read by the {Reporter} thread.
    #
    # Paused partitions: the engine pauses a partition only to back off after a failed job
    # (`consumer.consuming.pause`, with the pause's length; nothing else pauses in karafka-rs:
    # long-running jobs need no pause, the consumer loop polls on its own thread). A partition
    # counts as paused until its pause ends, its job finishes (retried successfully, or
    # dead-lettered), or it is revoked.
    class Tracker
      COUNTERS = %i[processed failed retried dead].freeze
      # Arguments and error text in reports are cut to stay small.
      MAX_TEXT = 300
      BACKTRACE_LINES = 10
      # Failures counted per job location (for `attempts`), at most this many remembered.
      MAX_FAILURE_LOCATIONS = 1_000

      # @param on_error [#call] gets each error report (a Hash) as it happens
      def initialize(on_error:)
        @on_error = on_error
        @mutex = Mutex.new
        @counters = COUNTERS.to_h { |name| [name, 0] }
        @running = {}
        @assigned = {}
        @failures = {}
        @paused = {}
      end

      # Subscribes to the events and to Active Job's perform_start.
      # @param monitor [Instrumentation::Monitor]
      def subscribe(monitor)
        monitor.subscribe(self)
        return unless defined?(::ActiveSupport::Notifications)

        # An object with start/finish (an "evented" subscriber): cheaper than a block, which
        # makes Active Support time every perform_start.
        @notification = ::ActiveSupport::Notifications.subscribe('perform_start.active_job', StartListener.new(self))
      end

      # Active Job's perform_start, handed to {Tracker#job_started}.
      class StartListener
        def initialize(tracker)
          @tracker = tracker
        end

        def start(_name, _id, payload)
          @tracker.job_started(payload[:job])
        end

        def finish(_name, _id, _payload); end
      end

      # Stops listening to Active Job (the monitor has no unsubscribe; the server is stopping).
      def unsubscribe
        ::ActiveSupport::Notifications.unsubscribe(@notification) if @notification
      end

      # @return [Hash] counters, running jobs, assigned and paused partitions as of now
      def snapshot
        now = Process.clock_gettime(Process::CLOCK_REALTIME)
        counters, running, assigned, paused = @mutex.synchronize do
          @paused.delete_if { |_, pause| pause[:until] <= now } unless @paused.empty?
          [@counters.dup, @running.values, @assigned.keys, @paused.dup]
        end
        running = running.map { |job, started_at| describe(job, started_at) }
        mark_overdue(running)
        { counters: counters, running: running,
          assigned: assigned.sort.map { |topic, partition| { topic: topic, partition: partition } },
          paused: paused.sort.map { |(topic, partition), pause| { topic: topic, partition: partition, **pause } } }
      end

      # Active Job's perform_start on a worker thread: only the job and the time are kept here;
      # {#snapshot} formats them (every few seconds, not per job).
      # @api private
      def job_started(job)
        started_at = Process.clock_gettime(Process::CLOCK_REALTIME)
        @mutex.synchronize { @running[Thread.current] = [job, started_at] }
      end

      def on_worker_processed(event)
        location = event.payload.values_at(:topic, :partition, :offset)
        @mutex.synchronize do
          @running.delete(Thread.current)
          @failures.delete(location) unless @failures.empty?
          @paused.delete(location.first(2)) unless @paused.empty?
          @counters[:processed] += 1
        end
      end

      def on_consumer_consuming_pause(event)
        payload = event.payload
        pause = { offset: payload[:offset], attempt: payload[:attempt],
                  until: Process.clock_gettime(Process::CLOCK_REALTIME) + (payload[:timeout].to_f / 1000) }
        @mutex.synchronize do
          @counters[:retried] += 1
          @paused[payload.values_at(:topic, :partition)] = pause
        end
      end

      def on_dead_letter_queue_dispatched(event)
        @mutex.synchronize do
          @counters[:dead] += 1
          @paused.delete(event.payload.values_at(:topic, :partition)) unless @paused.empty?
        end
      end

      def on_rebalance_partitions_assigned(event)
        @mutex.synchronize { event[:partitions].each { |topic, partition| @assigned[[topic, partition]] = true } }
      end

      def on_rebalance_partitions_revoked(event)
        @mutex.synchronize do
          event[:partitions].each do |topic, partition|
            @assigned.delete([topic, partition])
            @paused.delete([topic, partition])
          end
        end
      end

      def on_error_occurred(event)
        payload = event.payload
        attempts = nil
        if payload[:type] == 'consumer.consume.error'
          location = payload.values_at(:topic, :partition, :offset)
          @mutex.synchronize do
            @running.delete(Thread.current)
            @counters[:failed] += 1
            @failures.shift if @failures.size >= MAX_FAILURE_LOCATIONS && !@failures.key?(location)
            attempts = @failures[location] = @failures.fetch(location, 0) + 1
          end
        end
        @on_error.call(error_report(payload, attempts))
      end

      private

      # Jobs past their deadline (lib/karafka/active_job/deadlines.rb) get `overdue: true`.
      def mark_overdue(running)
        return unless defined?(Karafka::ActiveJob::Deadlines) && Karafka::ActiveJob::Deadlines.declared?

        deadlines = Karafka::ActiveJob::Deadlines.overdue.to_h { |entry| [entry.job_id, entry.deadline] }
        running.each do |job|
          next unless deadlines.key?(job[:job_id])

          job[:overdue] = true
          job[:deadline] = deadlines[job[:job_id]]
        end
      end

      def describe(job, started_at)
        topic, partition, offset = job.provider_job_id.to_s.split('/')
        { job_class: job.class.name, job_id: job.job_id, arguments: text(job.arguments.inspect),
          topic: topic, partition: partition&.to_i, offset: offset&.to_i, started_at: started_at }
      end

      def error_report(payload, attempts)
        error = payload[:error]
        { type: 'error', process_id: Web.process_id, occurred_at: Time.now.to_f, error_type: payload[:type].to_s,
          error_class: error.class.name, message: text(error.message.to_s, 2_000),
          backtrace: Array(error.backtrace).first(BACKTRACE_LINES), job_class: payload[:job_class],
          job_id: payload[:job_id], topic: payload[:topic], partition: payload[:partition],
          offset: payload[:offset], attempts: attempts }
      end

      def text(value, limit = MAX_TEXT)
        value = value.scrub
        value.length > limit ? "#{value[0, limit]}..." : value
      end
    end
  end
end
