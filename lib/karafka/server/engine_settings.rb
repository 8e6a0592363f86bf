# frozen_string_literal: true

require_relative 'static_membership'
require_relative 'engine_notices'

module Karafka
  class Server
    # Turns `setup` and the routes of one consumer group into the native engine's settings
    # ({Native::EngineSettings}), and runs the routes' virtual-partition partitioners when the engine asks.
    class EngineSettings
      # @return [String] the Kafka group.id of this engine's routes
      attr_reader :group_id
      # @return [String, nil] this consumer's `group.instance.id` (nil: dynamic membership),
      #   known once {#build} ran
      attr_reader :instance_id

      # @param app [Class<App>]
      # @param monitor [Instrumentation::Monitor]
      # @param group_id [String, nil] the consumer group (nil: `config.group_id`)
      def initialize(app, monitor, group_id = nil)
        @app = app
        @config = app.config
        @monitor = monitor
        @group_id = (group_id || @config.group_id).to_s
      end

      # @return [Native::Engine] subscribed to every routed job and schedules topic
      def build
        Native::Engine.new(native_settings).tap { Instrumentation::LibrdkafkaLog.ensure_running }
      end

      # @return [Native::EngineSettings]
      def native_settings
        pause = @config.pause
        Native::EngineSettings.new(
          kafka: kafka, topics: job_topics, max_messages: @config.max_messages, max_wait_ms: @config.max_wait_time,
          pause_timeout_ms: pause.timeout, pause_max_timeout_ms: pause.max_timeout,
          exponential_backoff: pause.with_exponential_backoff, dead_letters: dead_letters,
          schedule_topics: schedule_topics,
          virtual_partitions: virtual_partitions.map { |name, lanes, _| Native::VirtualLanes.new(topic: name, lanes: lanes) },
          reset_backoff_ms: @config.internal.connection.reset_backoff
        )
      end

      # @return [Array<String>] job topics (pattern routes in librdkafka's `^regex` form)
      def job_topics
        topics.map(&:name)
      end

      # @return [Array<String>] schedules topics declared in this consumer group
      def schedule_topics
        @app.routes.active_schedule_topics.select { |name| @app.routes.schedule_topic_group(name) == @group_id }
      end

      # Runs the partitioners (Ruby) for the messages the engine holds back and hands the
      # lanes back. A partitioner that raises sends its message to lane 0 (order is kept,
      # parallelism is lost for it) and reports the error.
      # @param engine [Native::Engine]
      def classify(engine)
        by_topic = virtual_partitions.to_h { |name, lanes, vp| [name, [lanes, vp]] }
        lanes = engine._unclassified.map do |held|
          count, vp = by_topic.fetch(held.topic)
          begin
            vp.lane_for(count, held)
          rescue StandardError => e
            @monitor.instrument('error.occurred', { type: 'virtual_partitions.partitioner', error: e,
                                                    topic: held.topic, partition: held.partition, offset: held.offset })
            0
          end
        end
        engine._classify(lanes)
      end

      private

      # The active routes of this consumer group.
      def topics
        @app.routes.active_topics.select { |topic| topic.consumer_group == @group_id }
      end

      # `config.kafka` plus the group and client ids, `initial_offset` as `auto.offset.reset`
      # and, when `statistics.emitted` has a subscriber, Karafka's `statistics.interval.ms` of
      # 5 s. The user's own entries win, except a named consumer group's id, which is its name.
      def kafka
        derived = { 'group.id': @group_id, 'client.id': @config.client_id,
                    'auto.offset.reset': @config.initial_offset.to_s }
        derived[:'statistics.interval.ms'] = 5_000 if @monitor.listening?('statistics.emitted')
        settings = @config.kafka.transform_keys(&:to_sym).merge(derived) { |_k, user, _| user }
        settings[:'group.id'] = @group_id if @group_id != @config.group_id.to_s
        static_membership(settings)
        # A routed topic created after the start (a queue added in a deploy, a target topic
        # first created by a scheduled dispatch) and pattern routes' new topics are noticed
        # on a metadata refresh: librdkafka's default of 5 min left such jobs waiting that
        # long. One small metadata request per 5 s per consumer.
        unless settings.key?(:'topic.metadata.refresh.interval.ms')
          settings[:'topic.metadata.refresh.interval.ms'] = 5_000
        end
        settings.map { |key, value| [key.to_s, value.to_s] }
      end

      # Static membership by default (see StaticMembership); `group.instance.id` given in
      # `config.kafka` wins, and `false`, `nil` or `''` there mean dynamic membership.
      def static_membership(settings)
        key = settings.keys.find { |k| k.to_s == 'group.instance.id' }
        if key
          settings.delete(key) if [false, nil, ''].include?(settings[key])
          @instance_id = settings[key]&.to_s
          return
        end

        @instance_id = StaticMembership.instance_id(@group_id, @config.client_id, job_topics + schedule_topics)
        settings[:'group.instance.id'] = @instance_id if @instance_id
      end

      # A {Native::DeadLetter} per topic with a DLQ.
      def dead_letters
        topics.filter_map do |topic|
          dlq = topic.dead_letter or next
          Native::DeadLetter.new(source: topic.name, topic: dlq[:topic] || nil, max_retries: dlq[:max_retries],
                                 independent: dlq[:independent])
        end
      end

      # `[topic, lanes, VirtualPartitions]` per topic with virtual partitions.
      def virtual_partitions
        @virtual_partitions ||= topics.filter_map do |topic|
          vp = topic.virtual_partitions_config or next
          [topic.name, vp.max_partitions || @config.concurrency, vp]
        end
      end
    end
  end
end
