# frozen_string_literal: true

module Karafka
  module Web
    # What this server process is doing. Jobs running and jobs processed come from the engines
    # ({#watch}): each engine's workers note them around every job in Rust
    # (`Native::Engine#_running`, `#_processed`), and the {Reporter} thread reads them in
    # {#snapshot}, so the job path runs no Ruby for the tracker (issue 18: an Active Support
    # subscriber and a mutex per job cost ~8% of a trivial job's throughput; a per-thread Ruby
    # slot, ~3%). The rare events (failures, pauses, dead letters, rebalances) come from
    # Karafka.monitor and are kept under a mutex.
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
        @engines = [].freeze
        @assigned = {}
        @failures = {}
        @paused = {}
      end

      # Subscribes to the rare events (failures, pauses, dead letters, rebalances); jobs
      # running and processed come from the engines ({#watch}).
      # @param monitor [Instrumentation::Monitor]
      def subscribe(monitor)
        monitor.subscribe(self)
      end

      # Reports the jobs of `engine`'s workers too (the server adds each consumer group's).
      # @param engine [#_running, #_processed] a Native::Engine
      def watch(engine)
        @mutex.synchronize { @engines = [*@engines, engine].freeze }
      end

      # The executor, after a job that had failed before succeeded (first attempts never get
      # here): its partition is no longer paused nor its location failing.
      # @param topic [String]
      # @param partition [Integer]
      # @param offset [Integer]
      # @api private
      def recovered(topic, partition, offset)
        return if @failures.empty? && @paused.empty?

        @mutex.synchronize do
          @failures.delete([topic, partition, offset]) unless @failures.empty?
          @paused.delete([topic, partition]) unless @paused.empty?
        end
      end

      # @return [Hash] counters, running jobs, assigned and paused partitions as of now
      def snapshot
        now = ::Process.clock_gettime(::Process::CLOCK_REALTIME)
        counters, assigned, paused = @mutex.synchronize do
          @paused.delete_if { |_, pause| pause[:until] <= now } unless @paused.empty?
          [@counters.dup, @assigned.keys, @paused.dup]
        end
        engines = @engines
        counters[:processed] = engines.sum(&:_processed)
        running = engines.flat_map(&:_running).map { |row| describe(*row) }
        mark_overdue(running)
        { counters: counters, running: running,
          assigned: assigned.sort.map { |topic, partition| { topic: topic, partition: partition } },
          paused: paused.sort.map { |(topic, partition), pause| { topic: topic, partition: partition, **pause } } }
      end

      def on_consumer_consuming_pause(event)
        payload = event.payload
        pause = { offset: payload[:offset], attempt: payload[:attempt],
                  until: ::Process.clock_gettime(::Process::CLOCK_REALTIME) + (payload[:timeout].to_f / 1000) }
        @mutex.synchronize do
          @counters[:retried] += 1
          @paused[payload.values_at(:topic, :partition)] = pause
        end
      end

      # The job moved on: its location's failures are forgotten too, so that {#processed} finds
      # nothing to clean up (and takes no lock) once no failed job is pending.
      def on_dead_letter_queue_dispatched(event)
        location = event.payload.values_at(:topic, :partition, :offset)
        @mutex.synchronize do
          @counters[:dead] += 1
          @failures.delete(location) unless @failures.empty?
          @paused.delete(location.first(2)) unless @paused.empty?
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
            @failures.delete_if { |(failed_topic, failed_partition, _), _| failed_topic == topic && failed_partition == partition }
          end
        end
      end

      def on_error_occurred(event)
        payload = event.payload
        attempts = nil
        if payload[:type] == 'consumer.consume.error'
          location = payload.values_at(:topic, :partition, :offset)
          @mutex.synchronize do
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

      # The running job as the report shows it: its arguments as serialized in the payload
      # (what the Scheduled and Dead letters pages show too), never deserialized here (that
      # could load records on the reporter thread).
      def describe(payload, topic, partition, offset, started_at)
        job = parsed(payload)
        { job_class: job['job_class'], job_id: job['job_id'], arguments: text(job['arguments'].inspect),
          topic: topic, partition: partition, offset: offset, started_at: started_at }
      end

      # A payload that is not a serialized job still shows as running, as what it is.
      def parsed(payload)
        job = JSON.parse(payload)
        job.is_a?(Hash) ? job : { 'job_class' => job.class.name }
      rescue JSON::ParserError, EncodingError
        { 'job_class' => 'unreadable payload', 'arguments' => payload.byteslice(0, MAX_TEXT) }
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
