# frozen_string_literal: true

require 'delegate'

module Karafka
  module Testing
    # Finds the route `consumer_for` builds a consumer for, in `Karafka::App.routes`.
    module TopicLookup
      # A pattern route seen as the concrete topic it matched (`consumer.topic.name` is the
      # topic, not the pattern).
      class MatchedTopic < SimpleDelegator
        # @return [String]
        attr_reader :name

        # @param route [Routing::Topic]
        # @param name [String]
        def initialize(route, name)
          super(route)
          @name = name
        end
      end

      module_function

      # @param requested [String, Symbol] a topic name (or queue name, with Active Job's
      #   queue_name_prefix applied), or a topic an `active_job_pattern` matches
      # @param consumer_group [String, Symbol, nil] narrows the search to one consumer group
      # @return [Array(Object, String)] the route and its consumer group's name
      # @raise [Errors::TopicNotFoundError, Errors::TopicInManyConsumerGroupsError,
      #   Errors::ConsumerGroupNotFoundError]
      def find(requested, consumer_group = nil)
        name = requested.to_s
        routes = all_routes
        candidates = named(routes, name)
        candidates = matching_patterns(routes, name) if candidates.empty?
        if consumer_group
          group = consumer_group.to_s
          unless routes.any? { |_route, route_group| route_group == group }
            raise Errors::ConsumerGroupNotFoundError,
                  "no consumer group #{group.inspect} in Karafka::App.routes (groups: #{groups(routes).join(', ')})"
          end
          candidates = candidates.select { |_route, route_group| route_group == group }
        end
        not_found!(name, consumer_group, routes) if candidates.empty?
        if candidates.size > 1
          raise Errors::TopicInManyConsumerGroupsError,
                "topic #{name.inspect} is routed in consumer groups #{candidates.map(&:last).join(', ')}: " \
                'pass consumer_group: to consumer_for'
        end
        candidates.first
      end

      # @return [Array<Array(Object, String)>] every routed topic with its consumer group name
      def all_routes
        default_group = App.config.group_id.to_s
        App.routes.flat_map do |entry|
          # Karafka's routes are consumer groups holding topics; karafka-rs' may be topics.
          if entry.respond_to?(:topics)
            entry.topics.to_a.map { |topic| [topic, entry.name.to_s] }
          else
            [[entry, group_of(entry) || default_group]]
          end
        end
      end

      def named(routes, name)
        prefixed = Routing::QueueName.topic_for(name)
        routes.select { |route, _group| pattern_of(route).nil? && [name, prefixed].include?(route.name) }
      end

      def matching_patterns(routes, name)
        routes.filter_map do |route, group|
          pattern = pattern_of(route)
          [MatchedTopic.new(route, name), group] if pattern&.match?(name)
        end
      end

      def pattern_of(route)
        route.respond_to?(:pattern) ? route.pattern : nil
      end

      def group_of(route)
        return nil unless route.respond_to?(:consumer_group) && route.consumer_group

        group = route.consumer_group
        group.respond_to?(:name) ? group.name.to_s : group.to_s
      end

      def groups(routes)
        routes.map(&:last).uniq
      end

      def not_found!(name, consumer_group, routes)
        routed = routes.map { |route, _group| pattern_of(route) ? pattern_of(route).inspect : route.name }.uniq
        where = consumer_group ? " in consumer group #{consumer_group.to_s.inspect}" : ''
        raise Errors::TopicNotFoundError,
              "topic #{name.inspect} is not routed#{where} in Karafka::App.routes (routed: " \
              "#{routed.empty? ? 'nothing' : routed.join(', ')}); add `active_job_topic :#{name}` to karafka.rb " \
              'routes.draw, or load karafka.rb before the test'
      end
    end
  end
end
