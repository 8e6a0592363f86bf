# frozen_string_literal: true

module Karafka
  module Web
    # The thread a `karafka server` with Web enabled runs: every `tracking.interval` it
    # produces this process' report (key: process id) to the states topic (compacted: the
    # latest per process) and the reports topic (history for the rates); errors are produced
    # as they happen. Everything goes through `Karafka.producer.produce_async`.
    class Reporter
      include Clock

      # @param app [Class] Karafka::App
      # @param monitor [Instrumentation::Monitor]
      def initialize(app, monitor)
        @app = app
        @topics = Web.topic_names
        @interval = Web.config.tracking.interval / 1000.0
        @tracker = Tracker.new(on_error: ->(report) { produce(@topics[:errors], report) })
        @tracker.subscribe(monitor)
        @started_at = Time.now.to_f
        @mutex = Mutex.new
        @wakeup = ConditionVariable.new
        @stopping = false
        @cpu = [cpu_time, monotonic]
      end

      # @return [Tracker] what the executors feed with each job (Server passes it to them)
      attr_reader :tracker

      # @return [self]
      def start
        @thread = Thread.new do
          Thread.current.name = 'karafka.web.reporter'
          report('running') until stopping_after_wait
        end
        self
      end

      # Waits one interval (or until {#stop}); true when stopping. The first report goes out at once.
      def stopping_after_wait
        @mutex.synchronize do
          if @reported
            @wakeup.wait(@mutex, @interval) unless @stopping
          else
            @reported = true
          end
          @stopping
        end
      end

      # Publishes a last report (state "stopped") and ends the thread.
      def stop
        @mutex.synchronize do
          @stopping = true
          @wakeup.signal
        end
        @thread&.join(5)
        report('stopped')
      end

      # @param state [String]
      # @return [Hash] the report produced
      def report(state)
        snapshot = @tracker.snapshot
        report = {
          type: 'state', process_id: Web.process_id, state: state, host: Socket.gethostname, pid: ::Process.pid,
          dispatched_at: Time.now.to_f, started_at: @started_at, rss_kb: rss_kb, cpu: cpu_share,
          concurrency: @app.config.concurrency * [@app.routes.consumer_groups.size, 1].max,
          busy: snapshot[:running].size, swarm_node: swarm_node, tags: Karafka::Process.tags.to_a,
          **snapshot
        }
        produce(@topics[:states], report)
        produce(@topics[:reports], report)
        report
      rescue StandardError => e
        Karafka.logger.warn("Karafka::Web report not published: #{e.class}: #{e.message}")
        nil
      end

      private

      def produce(topic, report)
        Karafka.producer.produce_async(topic: topic, key: Web.process_id, payload: JSON.generate(report))
      end

      # The node's index under `karafka swarm` (`config.swarm.node`), nil otherwise.
      def swarm_node
        swarm = @app.config.respond_to?(:swarm) ? @app.config.swarm : nil
        node = swarm.respond_to?(:node) ? swarm.node : nil
        node.respond_to?(:id) ? node.id : nil
      end

      def rss_kb
        File.foreach('/proc/self/status') { |line| return line.split[1].to_i if line.start_with?('VmRSS:') }
        nil
      rescue SystemCallError
        nil
      end

      # Share of one core used since the previous report (0.0 - cores).
      def cpu_share
        now = [cpu_time, monotonic]
        spent = now[0] - @cpu[0]
        wall = now[1] - @cpu[1]
        @cpu = now
        wall.positive? ? (spent / wall).round(3) : 0.0
      end

      def cpu_time
        ::Process.clock_gettime(::Process::CLOCK_PROCESS_CPUTIME_ID)
      end
    end
  end
end
