# frozen_string_literal: true

module Karafka
  module Routing
    # What `Karafka::App.routes` (and `Karafka::App.consumer_groups`) yield, as in Karafka: a
    # consumer group (`id`, the Kafka `group.id`) and the topics routed in it, with its
    # subscription groups. A view built from the routes when asked; the DSL's `consumer_group`
    # block is where groups are made.
    class ConsumerGroup
      # A named `subscription_group` block (or the unnamed default one) of a consumer group.
      SubscriptionGroup = Struct.new(:name, :topics) do
        alias_method :id, :name
      end

      # @return [String] the Kafka group.id
      attr_reader :id

      # @return [Array<Topic>]
      attr_reader :topics

      # @param id [String]
      # @param topics [Array<Topic>]
      def initialize(id, topics)
        @id = id
        @topics = topics
      end

      alias name id

      # @return [Array<SubscriptionGroup>] in declaration order; unnamed ones are named after
      #   the consumer group
      def subscription_groups
        @topics.group_by { |topic| topic.subscription_group_name || @id }
               .map { |name, topics| SubscriptionGroup.new(name, topics) }
      end

      # @return [Boolean] whether any of its topics is consumed
      def active?
        @topics.any?(&:active?)
      end
    end
  end
end
