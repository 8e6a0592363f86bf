# frozen_string_literal: true

module Karafka
  class Admin
    # Karafka's consumer group operations of `Karafka::Admin`: lags, seeking, copying,
    # renaming and deleting groups. Offsets are committed without joining the group, which
    # Kafka accepts only while the group has no running members (as Karafka's docs warn:
    # never change the offsets of a group that is consuming).
    module ConsumerGroups
      # @param consumer_groups_with_topics [Hash{String => Array<String>}] group => topics
      #   (default: every consumer group of the routes and its topics)
      # @param active_topics_only [Boolean] with the default, skip topics not consumed here
      # @return [Hash{String => Hash{String => Hash{Integer => Hash}}}]
      #   group => topic => partition => `{ offset:, lag: }` (-1 and -1 when nothing was
      #   committed); a topic the cluster does not have maps to `{}`
      def read_lags_with_offsets(consumer_groups_with_topics = {}, active_topics_only: true)
        groups = consumer_groups_with_topics.empty? ? routed_groups(active_topics_only) : consumer_groups_with_topics
        existing = topics
        groups.to_h do |group, names|
          [group.to_s, Array(names).to_h { |name| [name.to_s, lags(group.to_s, name.to_s, existing[name.to_s])] }]
        end
      end

      # Moves a (not running) consumer group's offsets.
      # @param consumer_group_id [String]
      # @param topics_with_partitions_and_offsets [Hash] topic => offset for all its partitions,
      #   or topic => `{ partition => offset }`; an offset is an Integer, a Time (the first
      #   message at or after it), `:earliest` or `:latest`
      # @return [true]
      def seek_consumer_group(consumer_group_id, topics_with_partitions_and_offsets)
        offsets = topics_with_partitions_and_offsets.flat_map do |name, target|
          name = name.to_s
          per_partition = target.is_a?(Hash) ? target : partitions_of(name).to_h { |p| [p, target] }
          per_partition.map { |partition, spec| [name, Integer(partition), resolve(name, Integer(partition), spec)] }
        end
        Native::Admin._commit_offsets(kafka, consumer_group_id.to_s, offsets)
      end

      # Copies `previous_name`'s committed offsets of `topics` to `new_name` (merged into
      # what `new_name` already has).
      # @return [Boolean] false when there was nothing to copy
      def copy_consumer_group(previous_name, new_name, topics)
        return false if previous_name.to_s == new_name.to_s

        offsets = Array(topics).flat_map do |name|
          next [] unless partitions_count(name.to_s)

          committed_offsets(previous_name, name).filter_map { |p, offset| [name.to_s, p, offset] if offset >= 0 }
        end
        return false if offsets.empty?

        Native::Admin._commit_offsets(kafka, new_name.to_s, offsets)
      end

      # {#copy_consumer_group}, then deletes `previous_name` (unless `delete_previous: false`).
      # @return [Boolean] false when there was nothing to copy (nothing is deleted then)
      def rename_consumer_group(previous_name, new_name, topics, delete_previous: true)
        copied = copy_consumer_group(previous_name, new_name, topics)
        delete_consumer_group(previous_name) if copied && delete_previous
        copied
      end

      # Deletes a consumer group that has no running members (Kafka refuses otherwise).
      # @return [Boolean] false when the group did not exist
      def delete_consumer_group(consumer_group_id)
        Native::Admin._delete_group(kafka, consumer_group_id.to_s)
      end

      # Makes a consumer group rebalance by briefly joining it (Karafka: for development, e.g.
      # to see rebalance callbacks run) with a member subscribed to the group's routed topics.
      # @param consumer_group_id [String] a consumer group of the routes
      # @return [true]
      def trigger_rebalance(consumer_group_id)
        topics = routed_groups(false)[consumer_group_id.to_s]
        unless topics
          raise Errors::AdminError, "trigger_rebalance: no routed topics for consumer group #{consumer_group_id} " \
                                    "(routed groups: #{routed_groups(false).keys.join(', ')})"
        end

        Native::Admin._trigger_rebalance(kafka, consumer_group_id.to_s, topics)
      end

      private

      # `{ group id => [topic names] }` of the routes. Routes outside `consumer_group` belong
      # to `config.group_id`.
      def routed_groups(active_topics_only)
        routes = active_topics_only ? App.routes.active_topics : App.routes.topics
        routes.reject(&:pattern).each_with_object({}) do |topic, groups|
          (groups[topic.consumer_group_name || App.config.group_id.to_s] ||= []) << topic.name
        end
      end

      def lags(group, name, partitions)
        return {} unless partitions

        committed = committed_offsets(group, name)
        Array.new(partitions) do |partition|
          offset = committed.fetch(partition, -1)
          lag = offset.negative? ? -1 : [read_watermark_offsets(name, partition).last - offset, 0].max
          [partition, { offset: offset, lag: lag }]
        end.to_h
      end

      def partitions_count(name)
        topics[name]
      end

      def partitions_of(name)
        count = partitions_count(name) or raise Errors::AdminError, "unknown topic or partition: #{name}"
        (0...count).to_a
      end

      def resolve(name, partition, spec)
        case spec
        when Integer then spec
        when Time then offset_at(name, partition, spec)
        # `false` means the start, as in Karafka (`seek_consumer_group(group, { topic => false })`).
        when :earliest, 'earliest', false then read_watermark_offsets(name, partition).first
        when :latest, 'latest' then read_watermark_offsets(name, partition).last
        else raise ArgumentError, "seek_consumer_group: #{spec.inspect} is not an offset, a Time, :earliest (or false) or :latest"
        end
      end
    end
  end
end
