# frozen_string_literal: true

module Karafka
  module Routing
    # What `Karafka::App.routes` (and `Karafka::App.consumer_groups`) yield, as in Karafka: a
    # consumer group (`id`, the Kafka `group.id`) and the topics routed in it, with its
    # subscription groups. A view built from the routes when asked; the DSL's `consumer_group`
    # block is where groups are made.
    class ConsumerGroup
      # A consumer group's topics, as Karafka's Routing::Topics: an Array whose `find(name)`
      # finds a topic by name.
      class Topics < Array
        # @param name [String, Symbol, nil] a topic name, or nil with a block (Array's find)
        # @return [Topic, nil]
        def find(name = nil, &block)
          return super(&block) if name.nil?

          super() { |topic| topic.name == name.to_s }
        end
      end

      # A named `subscription_group` block (or the unnamed default one) of a consumer group.
      SubscriptionGroup = Struct.new(:name, :topics, :consumer_group_id) do
        alias_method :id, :name

        # The settings its consumer is made with, as Karafka's: its topics' librdkafka
        # settings (config.kafka unless routed otherwise) with `group.id` and `client.id`.
        # @return [Hash{Symbol => Object}]
        def kafka
          defaults = { 'group.id': consumer_group_id, 'client.id': App.config.client_id,
                       'auto.offset.reset': topics.first.initial_offset }
          topics.first.kafka.transform_keys(&:to_sym).merge(defaults) { |_key, own, _| own }
        end
      end

      # @return [String] the Kafka group.id
      attr_reader :id

      # @return [Array<Topic>]
      attr_reader :topics

      # @param id [String]
      # @param topics [Array<Topic>]
      def initialize(id, topics)
        @id = id
        @topics = Topics.new(topics)
      end

      alias name id

      # @return [Array<SubscriptionGroup>] in declaration order; unnamed ones are named after
      #   the consumer group
      def subscription_groups
        @topics.group_by { |topic| topic.subscription_group_name || @id }
               .map { |name, topics| SubscriptionGroup.new(name, Topics.new(topics), @id) }
      end

      # @return [Boolean] whether any of its topics is consumed
      def active?
        @topics.any?(&:active?)
      end
    end
  end
end
