# frozen_string_literal: true

module Karafka
  module Native
    # What `Native::Engine.new` is built from: one named value, read member by member (by
    # name) in Rust (ext/karafka_rs/src/bridge/engine.rs). Every member is required.
    EngineSettings = Struct.new(
      # @return [Array<Array(String, String)>] librdkafka settings, as Strings
      :kafka,
      # @return [Array<String>] job topics (pattern routes in librdkafka's `^regex` form)
      :topics,
      # @return [Integer] messages per batch (`max_messages`)
      :max_messages,
      # @return [Integer] ms (`max_wait_time`)
      :max_wait_ms,
      # @return [Integer] ms (`pause.timeout`)
      :pause_timeout_ms,
      # @return [Integer] ms (`pause.max_timeout`)
      :pause_max_timeout_ms,
      # @return [Boolean] `pause.with_exponential_backoff`
      :exponential_backoff,
      # @return [Array<DeadLetter>]
      :dead_letters,
      # @return [Array<String>] schedules topics (`scheduled_messages(...)`)
      :schedule_topics,
      # @return [Array<VirtualLanes>]
      :virtual_partitions,
      # @return [Integer] ms between two resets of a dead consumer (`internal.connection.reset_backoff`)
      :reset_backoff_ms,
      keyword_init: true
    ) do
      # @raise [ArgumentError] naming the members not given
      def initialize(**members)
        missing = self.class.members - members.keys
        raise ArgumentError, "#{self.class.name} needs #{missing.join(', ')}" unless missing.empty?

        super
      end
    end

    # The dead letter policy of one source topic (`dead_letter_queue(...)`).
    # `topic` nil: skip the job after `max_retries` without dispatching it.
    DeadLetter = Struct.new(:source, :topic, :max_retries, :independent, keyword_init: true)

    # A topic with virtual partitions, and how many lanes its partitions split into.
    VirtualLanes = Struct.new(:topic, :lanes, keyword_init: true)
  end
end
