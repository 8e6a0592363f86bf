# frozen_string_literal: true

require_relative 'topic'
require_relative 'contract'
require_relative 'queue_name'
require_relative 'virtual_partitions'

module Karafka
  module Routing
    # `routes.draw { active_job_topic :default }`: collects the topics the server consumes.
    class Builder
      include Enumerable

      # @return [Array<String>] schedules topics declared with {#scheduled_messages}
      attr_reader :schedule_topics

      def initialize
        @topics = []
        @schedule_topics = []
      end

      # @param block [Proc] the routing DSL, evaluated on this builder
      def draw(&block)
        instance_eval(&block)
        Contract.new.validate!(@topics, @schedule_topics)
        self
      end

      # Routes an Active Job topic.
      # @param name [String, Symbol] the job's queue name (Active Job's queue_name_prefix applies)
      # @param block [Proc] per-topic settings
      # @raise [Errors::InvalidConfigurationError] when Active Job is not loaded (as Karafka)
      def active_job_topic(name, &block)
        ensure_active_job!(:active_job_topic, name)
        topic = Topic.new(QueueName.topic_for(name))
        topic.instance_eval(&block) if block
        @topics << topic
        topic
      end

      # Declares a scheduled messages topic, as Karafka does: jobs enqueued for a future time
      # by job classes with `karafka_options(scheduled_messages_topic: name)` wait there, and
      # the server dispatches each to its target topic when due.
      # @param name [String, Symbol]
      def scheduled_messages(name)
        @schedule_topics << name.to_s
      end

      # Routes every topic whose name matches `regex`, including topics created after the server
      # started (found on librdkafka's metadata refresh, every 5 s by default here). librdkafka
      # matches its own POSIX-like regex dialect: keep patterns simple (`.`, `*`, `+`, `[]`, `^`,
      # `$`, `|`).
      # @param regex [Regexp]
      # @param block [Proc] per-topic settings
      def active_job_pattern(regex, &block)
        ensure_active_job!(:active_job_pattern, regex)
        raise Errors::InvalidConfigurationError, "active_job_pattern needs a Regexp, got #{regex.inspect}" unless regex.is_a?(Regexp)

        topic = Topic.new(QueueName.subscription_pattern(regex), pattern: regex)
        topic.instance_eval(&block) if block
        @topics << topic
        topic
      end

      # Karafka routes for hand-written consumers (`topic :x do consumer MyConsumer end`,
      # `pattern`) are outside karafka-rs, which runs Active Job topics only.
      %i[topic pattern].each do |method_name|
        define_method(method_name) do |name, *|
          raise Errors::UnsupportedFeatureError,
                "routes: #{method_name} #{name.inspect} needs a custom consumer, which karafka-rs does not run; " \
                "route Active Job topics with active_job_topic / active_job_pattern"
        end
      end

      # Karafka's implicit consumer group wrapper: its topics are routed like any others.
      # @param _name [String, Symbol]
      def consumer_group(_name, &block)
        instance_eval(&block)
      end

      # @yieldparam topic [Topic]
      def each(&block)
        @topics.each(&block)
      end

      # @return [Array<Topic>] topics the server subscribes to
      def active_topics
        @topics.select(&:active?)
      end

      # Forgets all routes (specs re-draw routes between examples).
      def clear
        @topics.clear
        @schedule_topics.clear
      end

      private

      # The server could not run the jobs of such a route: say so at boot.
      def ensure_active_job!(method_name, name)
        return if defined?(::ActiveJob::Base)

        raise Errors::InvalidConfigurationError,
              "routes: #{method_name} #{name.inspect} needs Active Job, which is not loaded; " \
              "add `require 'active_job'` (or boot Rails) before karafka.rb draws its routes"
      end
    end
  end
end
