# frozen_string_literal: true

module Karafka
  class Cli
    class Topics < Base
      # A topic as the routes declare it: `config(partitions:, replication_factor:, **settings)`.
      Declaration = Struct.new(:name, :partitions, :replication_factor, :settings, keyword_init: true)

      # The topics `karafka topics` manages: every routed job topic (inactive ones too, as in
      # Karafka: `active false` stops consumption, not management) except patterns and
      # `config(active: false)`, then dead letter and schedules topics not routed themselves
      # (one partition). The first declaration of a name wins.
      module Declarations
        module_function

        # @param routes [Routing::Builder]
        # @return [Array<Declaration>]
        def from(routes)
          declared = {}
          unmanaged = []
          routes.topics.each do |topic|
            # A topic on another cluster (its own `kafka('bootstrap.servers': ...)`) is that
            # cluster's to manage, as in Karafka.
            next if topic.pattern || topic.other_cluster?
            next unmanaged << topic.name if topic.declaration[:active] == false

            declared[topic.name] ||= build(topic.name, topic.declaration)
          end
          extra = routes.topics.filter_map { |topic| topic.dead_letter && topic.dead_letter[:topic] } + routes.schedule_topics
          extra.each { |name| declared[name] ||= build(name, {}) unless unmanaged.include?(name) }
          feature_topics(routes).each { |name, declaration| declared[name] ||= build(name, declaration) }
          declared.values
        end

        # The topics of the features that keep their state in Kafka, when they are enabled.
        # @return [Array<(String, Hash)>] name and declaration
        def feature_topics(routes)
          topics = []
          # Karafka::Web.enable!: the dashboard's topics, with karafka-web's retention settings.
          if Karafka::Web.enabled?
            Karafka::Web.topic_names.each { |kind, name| topics << [name, Karafka::Web::TOPIC_SETTINGS.fetch(kind)] }
          end
          # config.active_job.cancels_topic: one partition (one order of cancels), compacted.
          if (cancels = App.config.active_job.cancels_topic)
            topics << [cancels, App.config.active_job.cancels_topic_settings.transform_keys(&:to_sym)]
          end
          # `recurring_tasks` in the routes: the state topic, compacted (the last record per key).
          if Karafka::RecurringTasks.declared?
            state = routes.recurring_tasks_topic
            topics << [state.name, { partitions: 1, replication_factor: state.config.replication_factor,
                                     'cleanup.policy': 'compact', **state.config.settings.to_h }]
          end
          topics
        end

        # Broker-level names of topic settings that take the same value, as Kafka's
        # ServerTopicConfigSynonyms pairs them (the hour and minute variants, in other units,
        # are left out): `config('log.retention.bytes': ...)` means the topic's
        # `retention.bytes`, as Karafka reads it through the broker's synonyms.
        BROKER_SYNONYMS = {
          'log.segment.bytes' => 'segment.bytes', 'log.roll.ms' => 'segment.ms',
          'log.roll.jitter.ms' => 'segment.jitter.ms', 'log.index.size.max.bytes' => 'segment.index.bytes',
          'log.flush.interval.messages' => 'flush.messages', 'log.flush.interval.ms' => 'flush.ms',
          'log.retention.bytes' => 'retention.bytes', 'log.retention.ms' => 'retention.ms',
          'message.max.bytes' => 'max.message.bytes', 'log.index.interval.bytes' => 'index.interval.bytes',
          'log.cleaner.delete.retention.ms' => 'delete.retention.ms',
          'log.cleaner.min.compaction.lag.ms' => 'min.compaction.lag.ms',
          'log.cleaner.max.compaction.lag.ms' => 'max.compaction.lag.ms',
          'log.segment.delete.delay.ms' => 'file.delete.delay.ms',
          'log.cleaner.min.cleanable.ratio' => 'min.cleanable.dirty.ratio', 'log.cleanup.policy' => 'cleanup.policy',
          'log.preallocate' => 'preallocate', 'log.message.timestamp.type' => 'message.timestamp.type',
          'log.message.timestamp.before.max.ms' => 'message.timestamp.before.max.ms',
          'log.message.timestamp.after.max.ms' => 'message.timestamp.after.max.ms',
          'log.message.downconversion.enable' => 'message.downconversion.enable',
          'log.local.retention.ms' => 'local.retention.ms', 'log.local.retention.bytes' => 'local.retention.bytes'
        }.freeze

        # Settings by their topic-level names; of two names for one setting, the later wins.
        def build(name, declaration)
          settings = declaration.except(:partitions, :replication_factor, :active)
          Declaration.new(name: name, partitions: Integer(declaration.fetch(:partitions, 1)),
                          replication_factor: Integer(declaration.fetch(:replication_factor, 1)),
                          settings: settings.to_h { |key, value| [BROKER_SYNONYMS.fetch(key.to_s, key.to_s), value.to_s] })
        end
      end
    end
  end
end
