# frozen_string_literal: true

module Karafka
  module ActiveJob
    # Jobs running past their deadline (`karafka_options(deadline:)`, else
    # `config.active_job.deadline`): reported once each (`active_job.overdue`, a log line, the
    # dashboard, the liveness listener's `overdue_grace`), never stopped (a Ruby thread cannot
    # be stopped safely mid-job).
    #
    # The `karafka.deadlines` thread is created (in Ruby) by the first job that has a deadline,
    # so a process without any deadline has no such thread and its jobs only pay one boolean
    # check.
    module Deadlines
      # A job with a deadline, running now. `overdue_at`: monotonic time it was reported.
      Running = Struct.new(:job_class, :job_id, :topic, :partition, :offset, :deadline, :started_at, :due,
                           :overdue_at, :wall_started_at, keyword_init: true)
      # The longest wait of the watcher between two looks (also how late a deadline
      # shorter than a running one's can be reported).
      LOOK_EVERY = 1.0

      @mutex = Mutex.new
      @wake = ConditionVariable.new
      @running = {}
      @by_class = {}
      @declared = false
      @watcher = nil
      @monitor = nil

      class << self
        include Clock

        # Set by `karafka_options(deadline:)` and the server (global default): from then on
        # jobs look their deadline up (and executors notice it: PathEpoch).
        def declared=(declared)
          @declared = declared
          PathEpoch.bump!
        end

        # @return [Boolean] whether any deadline may apply
        def declared?
          @declared
        end

        # @param job_class [String]
        # @return [Float, nil] seconds
        def for(job_class)
          @by_class.fetch(job_class) do
            klass = Object.const_get(job_class) rescue nil # rubocop:disable Style/RescueModifier
            own = klass.respond_to?(:karafka_options) ? klass.karafka_options[:deadline] : nil
            @by_class[job_class] = (own || App.config.active_job.deadline)&.to_f
          end
        end

        # Runs the job, watched. A job that raises after running past its deadline, with
        # `on_overdue: :dead_letter`, raises {OnOverdue::Failure} around its error.
        # @param deadline [Float] seconds
        # @param meta [Hash] job_class, job_id, topic, partition, offset
        # @param monitor [Instrumentation::Monitor]
        def watch(deadline, meta, monitor)
          now = monotonic
          entry = Running.new(job_class: meta[:job_class], job_id: meta[:job_id], topic: meta[:topic],
                              partition: meta[:partition], offset: meta[:offset], deadline: deadline,
                              started_at: now, due: now + deadline, wall_started_at: Time.now.to_f)
          @mutex.synchronize do
            @running[Thread.current] = entry
            start_watcher(monitor) unless @watcher&.alive?
          end
          yield
        rescue StandardError => e
          raise entry ? OnOverdue.failure(e, entry, monotonic) : e
        ensure
          @mutex.synchronize { @running.delete(Thread.current) } if entry
        end

        # @return [Array<Running>] running jobs reported overdue
        def overdue
          @mutex.synchronize { @running.values.select(&:overdue_at) }
        end

        # @param seconds [Numeric]
        # @return [Boolean] whether a job has been overdue longer than `seconds`
        def overdue_longer_than?(seconds)
          now = monotonic
          overdue.any? { |entry| now - entry.due > seconds }
        end

        # Stops the watcher (server shutdown; specs).
        def stop
          watcher = @mutex.synchronize do
            @stopping = true
            @wake.signal
            @watcher
          end
          watcher&.join
          @mutex.synchronize do
            @watcher = nil
            @stopping = false
          end
        end

        # Forgets cached deadlines (specs, code reloading).
        def reset!
          @by_class = {}
        end

        private

        def start_watcher(monitor)
          @monitor = monitor
          @stopping = false
          @watcher = Thread.new do
            Thread.current.name = 'karafka.deadlines'
            watch_loop
          end
        end

        def watch_loop
          loop do
            due = @mutex.synchronize do
              break if @stopping

              wait = next_due - monotonic
              @wake.wait(@mutex, wait.clamp(0.01, LOOK_EVERY)) if wait.positive?
              break if @stopping

              now = monotonic
              @running.values.select { |entry| entry.overdue_at.nil? && entry.due <= now }
                      .each { |entry| entry.overdue_at = now }
            end
            break if due.nil?

            due.each { |entry| report(entry) }
          end
        end

        def next_due
          @running.values.reject(&:overdue_at).map(&:due).min || (monotonic + LOOK_EVERY)
        end

        def report(entry)
          @monitor.instrument('active_job.overdue',
                              { job_class: entry.job_class, job_id: entry.job_id, topic: entry.topic,
                                partition: entry.partition, offset: entry.offset, deadline: entry.deadline,
                                running_for: monotonic - entry.started_at })
        rescue StandardError => e
          Karafka.logger.error("active_job.overdue listener failed: #{e.class}: #{e.message}")
        end
      end
    end
  end
end
