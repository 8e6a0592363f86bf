# frozen_string_literal: true

module Karafka
  module Routing
    # Which routes this process runs: `karafka server --include-topics a,b`,
    # `--exclude-consumer-groups x`, ... (Karafka's activity manager). A route runs when its
    # topic, its consumer group and its subscription group are all active: for each of the
    # three, an include list (when given) names the only active ones, and an exclude list
    # removes names from them.
    #
    # `Karafka::App.routes.filter` holds the process' filter; {Builder#active_topics} and
    # {Builder#active_schedule_topics} apply it.
    class Filter
      KINDS = %i[topics consumer_groups subscription_groups].freeze

      # @param include [Hash{Symbol => Array<String>}] kind => names to run (all when none)
      # @param exclude [Hash{Symbol => Array<String>}] kind => names not to run
      def initialize(include: {}, exclude: {})
        @include = normalize(include)
        @exclude = normalize(exclude)
      end

      # @return [Boolean] true when nothing is filtered
      def empty?
        KINDS.all? { |kind| @include[kind].empty? && @exclude[kind].empty? }
      end

      # @param topic [String] topic name
      # @param consumer_group [String] consumer group name
      # @param subscription_group [String, nil] subscription group name (nil: unnamed)
      # @return [Boolean]
      def active?(topic:, consumer_group:, subscription_group:)
        active_name?(:topics, topic) && active_name?(:consumer_groups, consumer_group) &&
          active_name?(:subscription_groups, subscription_group)
      end

      # @param topics [Array<Topic>]
      # @param default_group [String] consumer group of the routes outside `consumer_group`
      # @return [Array<Topic>] the topics this filter lets run
      def select(topics, default_group)
        topics.select do |topic|
          active?(topic: topic.name, consumer_group: topic.consumer_group_name || default_group,
                  subscription_group: topic.subscription_group_name)
        end
      end

      # Names given to the filter that no route has: Karafka refuses to start with them, and
      # so do we (a typo would otherwise run nothing, or everything).
      # @param known [Hash{Symbol => Array<String>}] kind => names the routes define
      # @return [Hash{Symbol => Array<String>}] kind => unknown names (empty when all known)
      def unknown_names(known)
        KINDS.each_with_object({}) do |kind, unknown|
          missing = (@include[kind] + @exclude[kind]).uniq - known.fetch(kind, [])
          unknown[kind] = missing unless missing.empty?
        end
      end

      # @return [String] e.g. "--include-topics a,b --exclude-consumer-groups c"
      def to_s
        flags = KINDS.flat_map do |kind|
          [['include', @include[kind]], ['exclude', @exclude[kind]]].filter_map do |mode, names|
            "--#{mode}-#{kind.to_s.tr('_', '-')} #{names.join(',')}" unless names.empty?
          end
        end
        flags.join(' ')
      end

      private

      def active_name?(kind, name)
        return false if !@include[kind].empty? && !@include[kind].include?(name)

        !@exclude[kind].include?(name)
      end

      def normalize(lists)
        unknown = lists.keys - KINDS
        raise ArgumentError, "unknown filter kind(s): #{unknown.join(', ')}" unless unknown.empty?

        KINDS.to_h { |kind| [kind, Array(lists[kind]).map(&:to_s)] }
      end
    end
  end
end
