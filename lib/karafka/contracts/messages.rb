# frozen_string_literal: true

module Karafka
  module Contracts
    # Every validation message in one place (Karafka keeps them in config/locales/errors.yml).
    MESSAGES = {
      setup: {
        kafka_format: 'must be a Hash with a "bootstrap.servers" entry',
        client_id_format: 'must be a non-empty String of letters, digits, ".", "_" or "-"',
        group_id_format: 'must be a non-empty String of letters, digits, ".", "_" or "-"',
        positive_integer: 'must be an Integer greater than 0',
        boolean: 'must be true or false',
        shutdown_timeout_vs_max_wait_time: 'must be greater than max_wait_time',
        pause_max_timeout_vs_timeout: 'must be greater than or equal to pause timeout',
        initial_offset: "must be 'earliest' or 'latest'",
        integer: 'must be an Integer',
        hash: 'must be a Hash',
        producer: 'must be a Karafka::Producer (e.g. Karafka::Producer.new(kafka: { ... })) or an object ' \
                  'answering produce_sync, produce_async, produce_many_sync and produce_many_async',
        monitor: 'must be a Karafka::Instrumentation::Monitor (subscribe listeners to Karafka.monitor instead ' \
                 'of replacing it)',
        oauth_listener: 'is not supported by karafka-rs (librdkafka would have to call Ruby from its own ' \
                        "thread): use librdkafka's OIDC token retrieval in config.kafka instead " \
                        "('sasl.oauthbearer.method': 'oidc', 'sasl.oauthbearer.client.id', " \
                        "'sasl.oauthbearer.client.secret', 'sasl.oauthbearer.token.endpoint.url')",
        deserializer: 'must answer serialize(job) and deserialize(message) (see Karafka::ActiveJob::Deserializer)'
      },
      routing: {
        topic_name_format: 'must be 1-249 characters of letters, digits, ".", "_" or "-"',
        duplicated_topic: 'is routed twice',
        job_topic_in_groups: 'is routed in more than one consumer group, whose servers would each run its jobs',
        no_topics: 'routes.draw defines no active_job_topic',
        partitions: 'must be an Integer greater than 0',
        dlq_same_topic: 'must differ from the topic itself',
        max_retries: 'must be an Integer >= 0',
        schedules_is_job_topic: 'cannot also be an active_job_topic',
        pattern_dead_letter: 'cannot have a dead_letter_queue in this version (route the topics by name)',
        vp_dlq_retries: 'must be at least 1 (a virtual partition collapses on its first failure)',
        strict_declaratives: 'has config(active: false), which config.strict_declarative_topics does not allow',
        mixed_namespacing: 'mixes "." and "_", which Kafka metric names cannot tell apart (use one; or set ' \
                           'config.strict_topics_namespacing = false)',
        namespace_collision: 'collide in Kafka metric names ("." and "_" read the same; rename one, or set ' \
                             'config.strict_topics_namespacing = false)',
        kafka_without_servers: 'replaces config.kafka and so needs "bootstrap.servers" (or pass inherit: true ' \
                               'to merge the settings over config.kafka)',
        active_job_offsets: 'cannot be turned off: the engine commits each job once it ran, as Karafka\'s ' \
                            'Active Job consumer does',
        strict_dead_letter: 'must be routed with a declarative definition (e.g. `topic NAME do active(false) end`) ' \
                            'under config.strict_declarative_topics'
      },
      job_options: {
        unknown_key: 'ignored: not a karafka_options key (allowed: %<allowed>s)',
        dispatch_method: 'must be one of: %<allowed>s',
        dispatch_many_method: 'must be one of: %<allowed>s',
        partition_key_type: 'must be one of: %<allowed>s',
        on_overdue: 'must be one of: %<allowed>s',
        callable: 'must respond to #call (e.g. a lambda taking the job)',
        scheduled_messages_topic: 'must be a non-empty String or Symbol'
      },
      message: {
        topic: 'must be a non-empty String or Symbol',
        payload: 'must be a String or nil',
        key: 'must be a String or nil',
        partition_key: 'must be a String or nil',
        partition: 'must be an Integer >= 0 or nil',
        headers: 'must be a Hash of String => String',
        timestamp: 'must be a Time or an Integer (milliseconds since the epoch) or nil'
      }
    }.freeze

    # @param scope [Symbol] section of {MESSAGES}
    # @param rule [Symbol] rule name
    # @param vars [Hash] format values
    # @return [String]
    def self.message(scope, rule, **vars)
      format(MESSAGES.fetch(scope).fetch(rule), **vars)
    end
  end
end
