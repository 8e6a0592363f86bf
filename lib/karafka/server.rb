# frozen_string_literal: true

require_relative 'server/signals'

module Karafka
  # `karafka server`: consumes every routed topic and runs its jobs.
  #
  # Threads (all created here, in Ruby): the main thread waits for a signal; one listener
  # thread runs the native consumer loop; `concurrency` worker threads each enter the native
  # engine, which calls the executor for every job. See ext/README.md for the native side.
  # Each consumer group of the routes has an engine of its own (its own Kafka consumer,
  # listener and workers); with one group, that is the only engine.
  class Server
    include Clock
    include Signals

    # Seconds at least between two `connection.listener.fetch_loop` events.
    FETCH_LOOP_INTERVAL = 0.5
    # `jobs_queue` of `connection.listener.fetch_loop`: `statistics` as in `worker.processed`.
    LoadSample = Struct.new(:statistics)
    # `subscription_group` of `connection.listener.fetch_loop`: the consumer group of the listener.
    SubscriptionGroup = Struct.new(:id, :name)

    # Karafka's class-level server API, for code that runs the server in its own process
    # (Karafka's integration scenarios do: `Karafka::Server.run` in the main thread,
    # `Karafka::Server.stop` from another).
    class << self
      # @return [ExecutionMode] see execution_mode.rb
      def execution_mode
        @execution_mode ||= ExecutionMode.new
      end

      # Runs a server until {stop} (or a signal). A {stop} that came first makes it return at
      # once, as a signal during boot does for `karafka server`.
      # @return [Boolean] true when everything stopped cleanly
      def run
        server = new(stop_requests: stop_requests)
        @listeners = server.listener_states
        server.run
      ensure
        @stop_requests = nil # the next run starts afresh (Karafka's scenarios run it again)
      end

      # Asks the running server (or the next {run}) to stop gracefully; safe from any thread.
      def stop
        stop_requests << :requested
      end

      # @return [Array<ListenerState>] one per consumer group of the last {run}
      def listeners
        @listeners || []
      end

      private

      def stop_requests
        @stop_requests ||= Queue.new
      end
    end

    # `Karafka::Server.listeners`' entries: a consumer group's listener and its state
    # (`pending` before it starts and once reset, `running`, `stopped`).
    class ListenerState
      STATES = %i[pending running stopped].freeze

      # @return [String] the consumer group it consumes for
      attr_reader :id

      def initialize(id)
        @id = id
        @state = :pending
      end

      STATES.each do |name|
        define_method(:"#{name}?") { @state == name }
        define_method(:"#{name}!") { @state = name }
      end

      def active?
        !pending?
      end
    end

    # @param app [Class<App>]
    # @param stop_requests [Queue] where stop requests arrive; `karafka server` passes the one
    #   its boot-time signal traps fill, so a SIGTERM while karafka.rb loads is not lost
    def initialize(app = App, stop_requests: Queue.new)
      @app = app
      @config = app.config
      @monitor = Karafka.monitor
      @stop_requests = stop_requests
      @state_lock = Mutex.new # quieting ends on its own thread; a stop may come meanwhile
      @failure = nil
      @listener_states = @app.routes.consumer_groups.map { |group| ListenerState.new(group) }
    end

    # @return [Array<ListenerState>] one per consumer group
    attr_reader :listener_states

    # Runs until SIGINT/SIGTERM/SIGQUIT (or a fatal error), then shuts down gracefully.
    # A stop requested before it runs (a signal while the app booted) returns at once: nothing
    # was consumed, so nothing needs stopping.
    # @return [Boolean] true when everything stopped cleanly
    def run
      return true if stopped_before_start?

      @app.routes.refuse_unrunnable!
      groups = @app.routes.consumer_groups.map { |group| EngineSettings.new(@app, @monitor, group) }
      topics = groups.flat_map(&:job_topics)
      if topics.empty? && @app.routes.active_schedule_topics.empty? && !RecurringTasks.active?
        raise Errors::InvalidConfigurationError, Contracts.message(:routing, :no_topics)
      end

      # on_overdue: :dead_letter needs a dead letter queue on the topics it applies to.
      ActiveJob::OnOverdue.validate!(@app.routes, @config)

      subscribe_default_logger
      subscribe_default_proctitle
      # Karafka::Web.enable!: this process' periodic report and its errors (lib/karafka/web).
      @web_reporter = Web::Reporter.new(@app, @monitor).start if Web.enabled?
      # config.active_job.cancels_topic: every cancel so far is read before any job runs.
      @cancels = ActiveJob::Cancels::Reader.new(@monitor, @config.active_job.cancels_interval).start if @config.active_job.cancels_topic
      @recurring = recurring_tasks
      @engines = build_engines(groups)
      trap_signals
      @engines.each { |settings, _| Karafka.logger.info("Consumer group #{settings.group_id}: #{membership(settings)}") }
      @workers = @engines.flat_map { |settings, engine| start_workers(engine, thread_suffix(settings)) }
      @listeners = start_listeners
      @recurring&.start
      @app.state = :running
      @monitor.instrument('app.running', { topics: topics })
      handle_requests
      stop
    end

    # Requests a graceful stop (safe to call from a signal trap or another thread); with a
    # {NOTICE_SIGNALS} name, that signal's handling instead.
    def request_stop(reason = :requested)
      @stop_requests << reason
    end

    private

    # Karafka's generated karafka.rb subscribes the logger listener itself; without it we
    # still want the per-job and per-error log lines.
    def subscribe_default_logger
      return if @monitor.listeners.any?(Instrumentation::LoggerListener)

      @monitor.subscribe(Instrumentation::LoggerListener.new)
    end

    # Karafka sets its process title by default too.
    def subscribe_default_proctitle
      return if @monitor.listeners.any?(Instrumentation::ProctitleListener)

      @monitor.subscribe(Instrumentation::ProctitleListener.new)
    end

    # `[[EngineSettings, Native::Engine], ...]`; an engine that fails to build closes the
    # ones built before it.
    def build_engines(groups)
      groups.each_with_object([]) do |settings, built|
        built << [settings, settings.build]
      rescue StandardError
        built.each { |_, engine| engine._close }
        raise
      end
    end

    # Thread names stay `karafka.listener` / `karafka.worker#N` with one consumer group.
    def thread_suffix(settings)
      @engines.size > 1 ? "[#{settings.group_id}]" : ''
    end

    def start_workers(engine, suffix)
      @web_reporter&.tracker&.watch(engine) # the jobs this engine's workers run (Web's report)
      executor = ActiveJob::Executor.new(@monitor, tracker: @web_reporter&.tracker)
      Array.new(@config.concurrency) do |index|
        Thread.new do
          Thread.current.name = "karafka.worker#{suffix}##{index}"
          Thread.current.priority = @config.worker_thread_priority if @config.worker_thread_priority
          guarded("worker ##{index}") { engine._work(executor) }
        end
      end
    end

    def start_listeners
      threads = @engines.map { |settings, engine| start_listener(settings, engine) }
      @listener_states.each(&:running!)
      threads
    end

    def start_listener(settings, engine)
      statistics = Instrumentation::Statistics.new(@monitor, settings.group_id)
      subscription_group = SubscriptionGroup.new(settings.group_id, settings.group_id)
      Thread.new do
        Thread.current.name = "karafka.listener#{thread_suffix(settings)}"
        guarded('listener') do
          loop do
            outcome = engine._run_loop
            fetch_loop(engine, subscription_group)
            case outcome
            when :stopped then break
            when :events then publish(engine._take_events, statistics, subscription_group)
            when :classify then settings.classify(engine)
            end
          end
        end
      end
    end

    def membership(settings)
      id = settings.instance_id
      id ? "static member #{id} (group.instance.id)" : 'dynamic membership (no group.instance.id)'
    end

    # Karafka's `connection.listener.fetch_loop`, from the listener thread each time the
    # native loop comes back (about every second: the engine returns `:tick` after one), at most once
    # per {FETCH_LOOP_INTERVAL}: liveness probes see the loop alive, and `jobs_queue` carries
    # the sampled load (busy workers) for the process title and metrics.
    # Runs on each listener thread; the time of the last event is kept per subscription group.
    def fetch_loop(engine, subscription_group)
      return unless @monitor.listening?('connection.listener.fetch_loop')

      now = monotonic
      last = Thread.current[:karafka_last_fetch_loop]
      return if last && now - last < FETCH_LOOP_INTERVAL

      Thread.current[:karafka_last_fetch_loop] = now
      busy, enqueued = engine._load
      @monitor.instrument('connection.listener.fetch_loop',
                          { caller: self, client: nil, subscription_group: subscription_group,
                            jobs_queue: LoadSample.new({ busy: busy, enqueued: enqueued }) })
    end

    # A thread that dies on an error stops the server instead of leaving it half-alive.
    def guarded(name)
      yield
    rescue Exception => e # rubocop:disable Lint/RescueException -- report anything, then stop
      @failure ||= e
      @monitor.instrument('error.occurred', { type: "runner.#{name}", error: e })
      request_stop(:failure)
    end

    def publish(events, statistics, subscription_group = nil)
      events.each do |event|
        case event.kind
        when :reset
          # A consumer librdkafka declared dead (a fenced static member) was replaced by a new
          # one with the same settings (Karafka's listener resets its client the same way).
          Karafka.logger.warn(event.message)
          @monitor.instrument('client.reset', { caller: self, subscription_group: subscription_group })
        when :assigned, :revoked then rebalanced(event, subscription_group&.id)
        when :statistics then statistics.publish(event.detail)
        else EngineNotices.publish(@monitor, event, subscription_group&.id)
        end
      end
    end

    # Tracks the partitions this process owns (Karafka::App.assignments), then tells listeners.
    def rebalanced(event, group_id)
      tracker = Instrumentation::AssignmentsTracker.instance
      event.kind == :assigned ? tracker.assigned(group_id, event.partitions) : tracker.revoked(group_id, event.partitions)
      @monitor.instrument("rebalance.partitions_#{event.kind}",
                          { partitions: event.partitions, consumer_group_id: group_id, subscription_group_id: group_id })
    end

    # Routes with `recurring_tasks`: this process competes for the state topic (lib/karafka/recurring_tasks).
    # Built (the state topic checked) before the engines, started after them.
    def recurring_tasks
      return unless RecurringTasks.active?

      on_failure = lambda do |error|
        @failure ||= error
        request_stop(:failure)
      end
      RecurringTasks::Runner.new(@app, @monitor, on_failure: on_failure)
    end

    # Running jobs finish and are committed; buffered ones stay in Kafka for the next start.
    def stop
      @state_lock.synchronize do
        @app.state = :stopping
        @monitor.instrument('app.stopping', {})
      end
      @quiet_watch&.join
      @recurring&.stop
      @engines.each { |_, engine| engine._stop }
      deadline = monotonic + (@config.shutdown_timeout / 1000.0)
      alive = (@workers + @listeners).reject { |thread| thread.join([deadline - monotonic, 0].max) }
      raise Errors::ForcefulShutdownError, "#{alive.size} thread(s) still busy after shutdown_timeout" unless alive.empty?

      @engines.each do |settings, engine|
        engine._close
        StaticMembership.release(settings.instance_id)
        # A failed final commit is news too, and so is a broker that answered again (the
        # revocation that closing causes is not).
        publish(engine._take_events.select { |event| %i[error info].include?(event.kind) }, nil)
      end
      @web_reporter&.stop
      @cancels&.stop
      ActiveJob::Deadlines.stop if defined?(ActiveJob::Deadlines)
      Karafka.producer.close if Karafka.producer?
      @listener_states.each(&:stopped!)
      Instrumentation::AssignmentsTracker.instance.clear
      @app.transition(:stopped)
      @app.transition(:terminated)
      @failure.nil?
    end
  end
end
