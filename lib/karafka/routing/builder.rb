# frozen_string_literal: true

require_relative 'topic'
require_relative 'consumer_group'
require_relative 'contract'
require_relative 'queue_name'
require_relative 'virtual_partitions'
require_relative 'filter'
require_relative '../recurring_tasks/routing'

module Karafka
  module Routing
    # `routes.draw { active_job_topic :default }`: collects the topics the server consumes.
    # Enumerates consumer groups as Karafka's does ({ConsumerGroup}: `id`, `topics`); {#topics}
    # lists every routed topic.
    class Builder
      include Enumerable
      # `recurring_tasks` (lib/karafka/recurring_tasks/routing.rb)
      include RecurringTasks::Routing

      # @return [Array<String>] schedules topics declared with {#scheduled_messages}
      attr_reader :schedule_topics

      # @return [Filter] which routes this process runs (`karafka server --include-topics`, ...)
      attr_accessor :filter

      def initialize
        @topics = []
        @schedule_topics = []
        @schedule_groups = {}
        @filter = Filter.new
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
        add(topic, &block)
      end

      # Declares a scheduled messages topic, as Karafka does: jobs enqueued for a future time
      # by job classes with `karafka_options(scheduled_messages_topic: name)` wait there, and
      # the server dispatches each to its target topic when due.
      # @param name [String, Symbol]
      def scheduled_messages(name)
        @schedule_topics << name.to_s
        @schedule_groups[name.to_s] = [@consumer_group, @subscription_group]
      end

      # @param name [String] a schedules topic declared with {#scheduled_messages}
      # @return [String] the consumer group it was declared in (Kafka group.id)
      def schedule_topic_group(name)
        @schedule_groups.fetch(name.to_s, nil)&.first || default_group
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
        add(topic, &block)
      end

      # Karafka's routes for hand-written consumers (`topic :x do consumer MyConsumer end`):
      # declared, so `karafka topics migrate`, Karafka::Admin and the routing API see them,
      # but never run: karafka-rs runs Active Job topics only, and `karafka server` refuses to
      # start with one among its active topics, naming it (exclude it with `--exclude-topics`).
      # @param name [String, Symbol] the topic, as named (no Active Job queue prefix)
      # @param block [Proc] per-topic settings (`consumer`, `config`, `active`, ...)
      def topic(name, &block)
        add(Topic.new(name.to_s, custom: true), &block)
      end

      # A `pattern` route with a hand-written consumer: karafka-rs has nothing to run it with.
      def pattern(regex, *)
        raise Errors::UnsupportedFeatureError,
              "routes: pattern #{regex.inspect} needs a custom consumer, which karafka-rs does not run; " \
              'route Active Job topics with active_job_topic / active_job_pattern'
      end

      # Routes inside the block are consumed under the Kafka group.id `name` (as-is, as in
      # Karafka 2.4+), so committed offsets carry over from Karafka; routes outside any
      # consumer_group block belong to `config.group_id`. Blocks with the same name add to
      # one group. Each group gets its own consumer in `karafka server` (see README). The
      # name also selects the group's routes in `karafka server --include-consumer-groups`.
      # @param name [String, Symbol]
      # @param block [Proc] routes of the group
      def consumer_group(name, &block)
        raise Errors::InvalidConfigurationError, 'consumer_group blocks do not nest' if @consumer_group

        @consumer_group = name.to_s
        instance_eval(&block)
      ensure
        @consumer_group = nil
      end

      # Karafka's subscription group: here a name for its topics (for
      # `karafka server --include-subscription-groups`); they share their consumer group's
      # Kafka consumer.
      # @param name [String, Symbol, nil] unnamed groups cannot be selected by name
      def subscription_group(name = nil, &block)
        previous = @subscription_group
        # An unnamed block is a subscription group of its own too, as in Karafka, under a
        # generated name (which no --include-subscription-groups names).
        @subscription_group = name ? name.to_s : SecureRandom.hex(6)
        routed = @topics.size
        instance_eval(&block)
        raise Errors::InvalidConfigurationError, "routes: subscription_group #{name.inspect} routes no topic" if @topics.size == routed
      ensure
        @subscription_group = previous
      end

      # Settings every topic drawn after it starts from (`defaults do active false end`), as in
      # Karafka: a topic's own block runs after them, so its settings win.
      def defaults(&block)
        @defaults = block
      end

      # @yieldparam group [ConsumerGroup] each consumer group with its topics, in declaration order
      def each(&block)
        @topics.group_by(&:consumer_group).map { |id, topics| ConsumerGroup.new(id, topics) }.each(&block)
      end

      # Karafka's routes are an Array of consumer groups: these read them the same way.
      # @return [Integer]
      def size
        @topics.map(&:consumer_group).uniq.size
      end

      # @return [Boolean]
      def empty?
        @topics.empty?
      end

      # @return [ConsumerGroup, nil]
      def last
        to_a.last
      end

      # @param index [Integer]
      # @return [ConsumerGroup, nil]
      def [](index)
        to_a[index]
      end

      # @return [Array<Topic>] every routed topic (active or not), in declaration order
      def topics
        @topics.dup
      end

      # @return [Array<Topic>] topics the server subscribes to (`active`, and let through by
      #   {#filter})
      def active_topics
        @filter.select(@topics.select(&:active?), default_group)
      end

      # @return [Array<String>] group ids of the active topics and schedules topics, in
      #   declaration order
      def consumer_groups
        (active_topics.map(&:consumer_group) + active_schedule_topics.map { |name| schedule_topic_group(name) }).uniq
      end

      # @return [Array<String>] schedules topics the server runs (let through by {#filter})
      def active_schedule_topics
        @schedule_topics.select do |name|
          group, subscription_group = @schedule_groups[name]
          @filter.active?(topic: name, consumer_group: group || default_group, subscription_group: subscription_group)
        end
      end

      # @return [Hash{Symbol => Array<String>}] the names {Filter} can select: topics,
      #   consumer groups and (named) subscription groups of the routes
      def names
        groups = @topics.map { |topic| [topic.consumer_group_name, topic.subscription_group_name] } +
                 @schedule_groups.values + recurring_tasks_names.map { |_, group| [group, nil] }
        { topics: @topics.reject(&:pattern).map(&:name) + @schedule_topics + recurring_tasks_names.map(&:first),
          consumer_groups: groups.map { |group, _| group || default_group }.uniq,
          subscription_groups: groups.filter_map(&:last).uniq }
      end

      # `karafka server` / `swarm`, before they start: the active routes this process cannot
      # consume raise, naming them.
      def refuse_unrunnable!
        refuse_custom_consumers!
        refuse_other_kafka!
        refuse_own_initial_offsets!
      end

      # Every topic starts where `config.initial_offset` says (librdkafka's auto.offset.reset
      # is one setting per consumer here).
      def refuse_own_initial_offsets!
        other = active_topics.select { |topic| topic.own_initial_offset? && topic.initial_offset != App.config.initial_offset.to_s }
        return if other.empty?

        raise Errors::UnsupportedFeatureError,
              "routes: topic(s) #{other.map { |topic| "#{topic.name} (initial_offset #{topic.initial_offset})" }.join(', ')} " \
              "start elsewhere than config.initial_offset (#{App.config.initial_offset}), which karafka-rs applies to every " \
              "topic of a process; run them in a process configured so, or leave them out with --exclude-topics #{other.map(&:name).join(',')}"
      end

      # `karafka server`, before it starts: routes for hand-written consumers are declared
      # (topics, Admin) but cannot run here.
      # @raise [Errors::UnsupportedFeatureError] naming the active ones
      def refuse_custom_consumers!
        custom = active_topics.select(&:custom_consumer?)
        return if custom.empty?

        raise Errors::UnsupportedFeatureError,
              "routes: topic(s) #{custom.map { |t| "#{t.name} (consumer #{t.consumer.inspect})" }.join(', ')} " \
              'need custom consumers, which karafka-rs does not run (it runs Active Job topics only); route them ' \
              "with active_job_topic, or leave them out with --exclude-topics #{custom.map(&:name).join(',')}"
      end

      # `karafka server`, before it starts: every topic is consumed with `config.kafka`, so a
      # topic whose `kafka(...)` settings differ cannot run in this process.
      # @raise [Errors::UnsupportedFeatureError] naming them
      def refuse_other_kafka!
        primary = App.config.kafka.transform_keys(&:to_s)
        other = active_topics.select { |topic| topic.own_kafka? && topic.kafka.transform_keys(&:to_s) != primary }
        return if other.empty?

        raise Errors::UnsupportedFeatureError,
              "routes: topic(s) #{other.map(&:name).join(', ')} set kafka(...) settings of their own, which " \
              'karafka-rs does not consume with (every topic uses config.kafka); run them in a process whose ' \
              "config.kafka has those settings, or leave them out with --exclude-topics #{other.map(&:name).join(',')}"
      end

      # The deserializers for messages of `name`: its route's, else those the `defaults`
      # block gives a topic (Karafka::Admin.read_topic of a topic not routed), else Karafka's.
      # @param name [String]
      # @return [Topic::Deserializers]
      def deserializers_for(name)
        routed = @topics.find { |topic| topic.pattern.nil? && topic.name == name.to_s }
        return routed.deserializers if routed

        probe = Topic.new(name.to_s, custom: true)
        probe.instance_eval(&@defaults) if @defaults
        probe.deserializers
      end

      # Forgets all routes (specs re-draw routes between examples).
      def clear
        @topics.clear
        @schedule_topics.clear
        @schedule_groups.clear
        @defaults = nil
        @filter = Filter.new
      end

      private

      # Karafka's order: the `defaults` block first, then the topic's own, whose settings win.
      def add(topic, &block)
        topic.consumer_group_name = @consumer_group
        topic.subscription_group_name = @subscription_group
        topic.instance_eval(&@defaults) if @defaults
        topic.instance_eval(&block) if block
        @topics << topic
        topic
      end

      # Routes outside `consumer_group` belong to `config.group_id`, as in Karafka.
      def default_group
        App.config.group_id.to_s
      end

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
