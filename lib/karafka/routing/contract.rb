# frozen_string_literal: true

require_relative '../contracts/messages'

module Karafka
  module Routing
    # Validates drawn routes, naming the topic and the problem.
    class Contract
      TOPIC_NAME = /\A[a-zA-Z0-9._-]{1,249}\z/
      GROUP_NAME = /\A[a-zA-Z0-9._-]+\z/

      # @param topics [Array<Topic>]
      # @param schedule_topics [Array<String>]
      # @raise [Errors::InvalidConfigurationError]
      def validate!(topics, schedule_topics = [])
        errors = topics.flat_map { |topic| topic_errors(topic) }
        errors.concat(schedule_errors(topics, schedule_topics))
        topics.map(&:consumer_group).uniq.each do |group|
          errors << "consumer_group '#{group}' name #{Contracts.message(:setup, :group_id_format)}" unless GROUP_NAME.match?(group.to_s)
        end
        errors.concat(duplicate_errors(topics))
        errors.concat(strict_declaratives_errors(topics)) if App.config.strict_declarative_topics
        errors.concat(namespacing_errors(topics)) if App.config.strict_topics_namespacing
        return if errors.empty?

        raise Errors::InvalidConfigurationError, "Invalid routing: #{errors.join('; ')}"
      end

      private

      # `config.strict_topics_namespacing`, as in Karafka: Kafka's metric names turn "." into
      # "_", so a name with both, or two names of one consumer group that differ only by them,
      # would share metrics.
      def namespacing_errors(topics)
        named = topics.reject(&:pattern)
        mixed = named.select { |topic| topic.name.include?('.') && topic.name.include?('_') }.map do |topic|
          "topic '#{topic.name}' #{Contracts.message(:routing, :mixed_namespacing)}"
        end
        colliding = named.group_by { |topic| [topic.consumer_group.to_s, topic.name.tr('.', '_')] }.filter_map do |(group, _), same|
          names = same.map(&:name).uniq
          next if names.size < 2

          "topics #{names.map { |name| "'#{name}'" }.join(' and ')} of consumer group '#{group}' " \
            "#{Contracts.message(:routing, :namespace_collision)}"
        end
        mixed + colliding
      end

      # A topic is routed once per consumer group, as in Karafka; a job topic once in all (the
      # engines of two groups would each run its jobs), a declared-only `topic` route in any
      # number of groups (Karafka's Admin scenarios read lags of one topic in several).
      def duplicate_errors(topics)
        in_group = topics.group_by { |topic| [topic.consumer_group.to_s, topic.name] }.select { |_, same| same.size > 1 }
        errors = in_group.map do |(group, name), _|
          "topic '#{name}' #{Contracts.message(:routing, :duplicated_topic)} in consumer group '#{group}'"
        end
        jobs = topics.reject(&:custom_consumer?).group_by(&:name).select { |_, same| same.map(&:consumer_group).uniq.size > 1 }
        errors + jobs.map do |name, same|
          "active_job_topic '#{name}' #{Contracts.message(:routing, :job_topic_in_groups)} " \
            "(#{same.map(&:consumer_group).uniq.join(', ')})"
        end
      end

      def schedule_errors(topics, schedule_topics)
        schedule_topics.flat_map do |name|
          errors = []
          errors << "scheduled_messages '#{name}' name #{Contracts.message(:routing, :topic_name_format)}" unless TOPIC_NAME.match?(name)
          errors << "scheduled_messages '#{name}' #{Contracts.message(:routing, :schedules_is_job_topic)}" if topics.any? { |t| t.name == name }
          errors
        end
      end

      # `config.strict_declarative_topics`, as in Karafka: every topic routed by name, and every
      # dead letter topic they name, has an active declarative definition (`topics migrate`
      # manages them all); the dead letter topic must be routed (`active(false)` will do).
      def strict_declaratives_errors(topics)
        named = topics.reject(&:pattern)
        declared = named.select { |topic| topic.declaratives.active? }.map(&:name)
        undeclared = named.reject { |topic| topic.declaratives.active? }.map do |topic|
          "topic '#{topic.name}' #{Contracts.message(:routing, :strict_declaratives)}"
        end
        missing = named.filter_map { |topic| topic.dead_letter && topic.dead_letter[:topic] }.uniq.reject do |name|
          declared.include?(name)
        end
        undeclared + missing.map { |name| "dead_letter_queue topic '#{name}' #{Contracts.message(:routing, :strict_dead_letter)}" }
      end

      def topic_errors(topic)
        return pattern_errors(topic) if topic.pattern

        errors = []
        unless TOPIC_NAME.match?(topic.name)
          errors << "active_job_topic '#{topic.name}' name #{Contracts.message(:routing, :topic_name_format)}"
        end
        errors.concat(dead_letter_errors(topic))
        errors.concat(kafka_errors(topic))
        errors.concat(virtual_partitions_errors(topic))
        %i[partitions replication_factor].each do |key|
          value = topic.declaration.fetch(key, 1)
          next if value.is_a?(Integer) && value.positive?

          errors << "active_job_topic '#{topic.name}' config #{key} #{Contracts.message(:routing, :partitions)}"
        end
        errors
      end

      # A topic's own `kafka(...)` replaces config.kafka (unless `inherit: true`), so it must
      # name the cluster; an Active Job topic's offsets are the engine's to commit.
      def kafka_errors(topic)
        errors = []
        if topic.replaces_kafka? && topic.kafka.none? { |key, _| key.to_s == 'bootstrap.servers' }
          errors << "topic '#{topic.name}' kafka(...) #{Contracts.message(:routing, :kafka_without_servers)}"
        end
        if !topic.custom_consumer? && !topic.manual_offset_management?
          errors << "active_job_topic '#{topic.name}' manual_offset_management #{Contracts.message(:routing, :active_job_offsets)}"
        end
        errors
      end

      def pattern_errors(topic)
        return [] unless topic.dead_letter

        ["active_job_pattern #{topic.pattern.inspect} #{Contracts.message(:routing, :pattern_dead_letter)}"]
      end

      def virtual_partitions_errors(topic)
        vp = topic.virtual_partitions_config
        return [] unless vp

        prefix = "active_job_topic '#{topic.name}' virtual_partitions"
        errors = []
        errors << "#{prefix} partitioner #{Contracts.message(:job_options, :callable)}" unless vp.partitioner.respond_to?(:call)
        max = vp.max_partitions
        errors << "#{prefix} max_partitions #{Contracts.message(:routing, :partitions)}" unless max.nil? || (max.is_a?(Integer) && max.positive?)
        dlq = topic.dead_letter
        if dlq && dlq[:max_retries].is_a?(Integer) && dlq[:max_retries] < 1
          errors << "#{prefix} with dead_letter_queue: max_retries #{Contracts.message(:routing, :vp_dlq_retries)}"
        end
        errors
      end

      def dead_letter_errors(topic)
        dlq = topic.dead_letter
        return [] unless dlq

        prefix = "active_job_topic '#{topic.name}' dead_letter_queue"
        errors = []
        unless dlq[:topic] == false || TOPIC_NAME.match?(dlq[:topic])
          errors << "#{prefix} topic #{Contracts.message(:routing, :topic_name_format)}"
        end
        errors << "#{prefix} topic #{Contracts.message(:routing, :dlq_same_topic)}" if dlq[:topic] == topic.name
        unless dlq[:max_retries].is_a?(Integer) && !dlq[:max_retries].negative?
          errors << "#{prefix} max_retries #{Contracts.message(:routing, :max_retries)}"
        end
        errors << "#{prefix} independent #{Contracts.message(:setup, :boolean)}" unless [true, false].include?(dlq[:independent])
        errors
      end
    end
  end
end
