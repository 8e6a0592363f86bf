# frozen_string_literal: true

module Karafka
  module RecurringTasks
    # This process' membership in the consumer group `config.recurring_tasks.group_id` on the
    # state topic (one partition, dynamic membership): a native engine of its own, with two
    # Ruby threads entering it, as the server's own engines have:
    # - `karafka.recurring.listener` runs the engine's loop and notes assignments;
    # - `karafka.recurring.drain` consumes the topic's messages and drops them (the Runner reads
    #   the state through Karafka::Admin, from the first offset, when taking over).
    class Membership
      # Executor of the drain thread: every message is done at once.
      class Drain
        def call(*)
          ActiveJob::Outcome::SUCCESS
        end
      end

      # @param app [Class<App>]
      # @param monitor [Instrumentation::Monitor]
      # @param topic [String] the state topic
      # @param on_change [#call] called (on the listener thread) when the partition is assigned or revoked
      # @param thread [#call] builds a named, guarded thread (Runner#thread)
      def initialize(app, monitor, topic, on_change:, thread:)
        @app = app
        @monitor = monitor
        @topic = topic
        @on_change = on_change
        @thread = thread
        @assigned = false
      end

      # @return [Boolean] whether Kafka assigned the partition to this process (the candidate owner)
      def assigned?
        @assigned
      end

      # @return [self]
      def start
        @engine = Native::Engine.new(
          Native::EngineSettings.new(kafka: kafka, topics: [@topic], max_messages: 100, max_wait_ms: 1_000,
                                     pause_timeout_ms: 1_000, pause_max_timeout_ms: 1_000, exponential_backoff: false,
                                     dead_letters: [], schedule_topics: [], virtual_partitions: [],
                                     reset_backoff_ms: App.config.internal.connection.reset_backoff)
        )
        @threads = [@thread.call('listener') { listen }, @thread.call('drain') { @engine._work(Drain.new) }]
        self
      end

      # Leaves the group, so that another process gets the partition at once.
      def stop
        return unless @engine

        @engine._stop
        @threads.each { |thread| thread.join(10) }
        @engine._close
        @engine = nil # stopped: a second stop (quiet, then the shutdown) does nothing
      end

      private

      # `config.kafka` with this group's id; never static membership (a restarting process
      # must hand the partition over, not keep it while it is away).
      def kafka
        derived = { 'group.id': @app.config.recurring_tasks.group_id, 'client.id': @app.config.client_id,
                    'auto.offset.reset': 'latest' }
        settings = @app.config.kafka.transform_keys(&:to_sym).merge(derived)
        settings.delete(:'group.instance.id')
        settings.map { |key, value| [key.to_s, value.to_s] }
      end

      def listen
        loop do
          case @engine._run_loop
          when :stopped then break
          when :events then @engine._take_events.each { |event| on_event(event) }
          end
        end
      end

      def on_event(event)
        case event.kind
        when :assigned, :revoked
          return unless event.partitions.any? { |topic, partition| topic == @topic && partition == Store::PARTITION }

          @assigned = event.kind == :assigned
          @on_change.call
        else Server::EngineNotices.publish(@monitor, event)
        end
      end
    end
  end
end
