# frozen_string_literal: true

module Karafka
  module Instrumentation
    # Karafka's assignments tracker: which partitions this process owns now
    # (`Karafka::App.assignments`, `{ Routing::Topic => [partition, ...] }`), and how many
    # times each was assigned (`generation`, for telling a first assignment from a later one).
    # Fed by `karafka server` from the engines' rebalances, per consumer group; thread-safe.
    class AssignmentsTracker
      class << self
        # @return [AssignmentsTracker] the process' tracker (made when this file loads: listener
        #   threads of several consumer groups must never make one each)
        attr_reader :instance

        # @see #generation
        def generation(topic, partition)
          instance.generation(topic, partition)
        end

        # @see #generations
        def generations
          instance.generations
        end
      end

      def initialize
        @mutex = Mutex.new
        @owned = Hash.new { |hash, key| hash[key] = [] } # [group, topic name] => partitions
        @generations = Hash.new(0) # [topic name, partition] => times assigned
      end

      # @param group_id [String] the engine's consumer group
      # @param partitions [Array<(String, Integer)>] topic names and partitions
      def assigned(group_id, partitions)
        @mutex.synchronize do
          partitions.each do |topic, partition|
            owned = @owned[[group_id, topic]]
            owned << partition unless owned.include?(partition)
            @generations[[topic, partition]] += 1
          end
        end
      end

      # @param group_id [String]
      # @param partitions [Array<(String, Integer)>]
      def revoked(group_id, partitions)
        @mutex.synchronize do
          partitions.each do |topic, partition|
            owned = @owned[[group_id, topic]]
            owned.delete(partition)
            @owned.delete([group_id, topic]) if owned.empty?
          end
        end
      end

      # Forgets what is owned (the server stopped); generations are kept.
      def clear
        @mutex.synchronize { @owned.clear }
      end

      # @return [Hash{Routing::Topic => Array<Integer>}] owned partitions by routed topic
      def current
        owned = @mutex.synchronize { @owned.transform_values(&:dup) }
        owned.each_with_object({}) do |((group_id, name), partitions), current|
          current[routed_topic(group_id, name)] = partitions.sort
        end
      end

      # @param topic [Routing::Topic, String]
      # @param partition [Integer]
      # @return [Integer] times it was assigned to this process (0: never)
      def generation(topic, partition)
        name = topic.respond_to?(:name) ? topic.name : topic.to_s
        @mutex.synchronize { @generations.fetch([name, partition], 0) }
      end

      # @return [Hash{Array(String, Integer) => Integer}] generation per topic and partition,
      #   revoked ones included
      def generations
        @mutex.synchronize { @generations.dup.freeze }
      end

      private

      # The route's topic object; for a topic matched by a pattern, one made for its name.
      def routed_topic(group_id, name)
        App.routes.topics.find { |topic| topic.name == name && topic.consumer_group == group_id } ||
          Routing::Topic.new(name).tap { |topic| topic.consumer_group_name = group_id }
      end

      @instance = new
    end
  end
end
