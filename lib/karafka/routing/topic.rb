# frozen_string_literal: true

module Karafka
  module Routing
    # One `active_job_topic` and its settings, built by the block given to it.
    class Topic
      # `dead_letter_queue` read back (Karafka's reader: `active?`, `topic`, `max_retries`, ...).
      DeadLetterQueue = Struct.new(:active, :topic, :max_retries, :independent, keyword_init: true) do
        alias_method :active?, :active
        alias_method :independent?, :independent
      end
      # `declaratives` (Karafka's reader of `config(...)`).
      Declaratives = Struct.new(:active, :partitions, :replication_factor, :details, keyword_init: true) do
        alias_method :active?, :active
      end
      # `deserializers` read back (Karafka's reader: `payload`, `key`, `headers`).
      Deserializers = Struct.new(:payload, :key, :headers, keyword_init: true)
      NOT_GIVEN = Object.new.freeze
      private_constant :NOT_GIVEN
      # @return [String]
      attr_reader :name
      # @return [Hash] declarative topic settings (`config(partitions: 6)`), used by
      #   `karafka topics create`
      attr_reader :declaration

      # @return [Hash, nil] `{ topic:, max_retries:, independent: }` when a DLQ is routed
      attr_reader :dead_letter

      # @return [Regexp, nil] for `active_job_pattern` routes
      attr_reader :pattern

      # @return [String, nil] the `consumer_group` it was routed in (nil: `config.group_id`)
      attr_accessor :consumer_group_name
      # @return [String, nil] the named `subscription_group` it was routed in
      attr_accessor :subscription_group_name

      # @param name [String, Symbol] topic name (for a pattern: librdkafka's `^regex` form)
      # @param pattern [Regexp, nil]
      # @param custom [Boolean] routed with Karafka's `topic` for a hand-written consumer
      def initialize(name, pattern: nil, custom: false)
        @name = name.to_s
        @pattern = pattern
        @custom = custom
        @declaration = { partitions: 1 }
        @active = true
        @dead_letter = nil
        @long_running_job = false
      end

      # @return [String] the Kafka group.id this topic is consumed under: its
      #   `consumer_group` block's name, else `config.group_id` (read when asked, so routes
      #   drawn before `setup` follow it, as Karafka's default group does)
      def consumer_group
        ConsumerGroupName.new(@consumer_group_name || Karafka::App.config.group_id.to_s)
      end

      # The group id as a String that also answers Karafka's `topic.consumer_group.id` / `.name`.
      class ConsumerGroupName < String
        # @return [String]
        def id
          to_s
        end
        alias name id
      end

      # Karafka's `consumer` of a `topic` route: recorded, never run (karafka-rs runs Active
      # Job topics only; `karafka server` refuses such a topic). Without an argument: the
      # consumer class (an Active Job topic's is Karafka::ActiveJob::Consumer, as in Karafka).
      # @param klass [Class, nil]
      def consumer(klass = nil)
        return @consumer || (@custom ? nil : ActiveJob::Consumer) if klass.nil?

        @consumer = klass
      end

      # @return [ConsumerGroup::SubscriptionGroup, nil] Karafka's reader: the subscription
      #   group it is routed in (looked up in Karafka::App.routes)
      def subscription_group
        group_id = consumer_group.to_s
        group = App.routes.find { |routed| routed.id == group_id }
        group&.subscription_groups&.find { |subscription_group| subscription_group.topics.include?(self) }
      end

      # Karafka's per-topic deserializers: what `Karafka::Admin.read_topic` makes of this
      # topic's payloads, keys and headers (Karafka::Deserializers' defaults for those not
      # given). Without arguments it reads them. An Active Job topic's jobs are read by
      # `config.internal.active_job.deserializer`, as in Karafka.
      # @param payload [#call, nil] gets the message
      # @param key [#call, nil] gets the metadata
      # @param headers [#call, nil] gets the metadata
      # @return [Deserializers]
      def deserializers(payload: nil, key: nil, headers: nil)
        @deserializers = { payload: payload, key: key, headers: headers }.compact unless [payload, key, headers].all?(&:nil?)
        given = @deserializers || {}
        Deserializers.new(payload: given[:payload] || Karafka::Deserializers::Payload.new,
                          key: given[:key] || Karafka::Deserializers::Key.new,
                          headers: given[:headers] || Karafka::Deserializers::Headers.new)
      end

      # Karafka's shorthand for the payload deserializer alone.
      # @param payload [#call]
      # @return [Deserializers]
      def deserializer(payload)
        deserializers(payload: payload)
      end

      # @return [Boolean] a `topic` route for a hand-written consumer
      def custom_consumer?
        @custom
      end

      # Karafka's per-topic librdkafka settings (another cluster, or other client settings):
      # `kafka('bootstrap.servers': ..., ...)` replaces `config.kafka` for the topic, and
      # `inherit: true` merges them over it. Without arguments it reads the topic's settings.
      # karafka-rs consumes every topic with `config.kafka`: `karafka server` refuses a topic
      # whose settings differ (Builder#refuse_other_kafka!), and `karafka topics` leaves one on
      # another cluster alone, as Karafka's CLI does.
      # @param settings [Hash]
      # @param inherit [Boolean]
      # @return [Hash]
      def kafka(settings = nil, inherit: false, **keywords)
        settings = (settings || {}).merge(keywords)
        @kafka = inherit ? { inherited: true, settings: settings } : { settings: settings } unless settings.empty?
        return App.config.kafka unless @kafka

        @kafka[:inherited] ? App.config.kafka.merge(@kafka[:settings]) : @kafka[:settings]
      end

      # @return [Boolean] whether `kafka(...)` gave the topic settings of its own
      def own_kafka?
        !@kafka.nil?
      end

      # @return [Boolean] whether its own settings replace config.kafka (no `inherit: true`)
      def replaces_kafka?
        own_kafka? && !@kafka[:inherited]
      end

      # Karafka's per-topic `initial_offset` ('earliest' / 'latest'); without an argument it
      # reads it (`config.initial_offset` unless set). `karafka server` refuses a topic whose
      # value differs from `config.initial_offset` (librdkafka's auto.offset.reset is one
      # setting per consumer here).
      # @param value [String, nil]
      # @return [String]
      def initial_offset(value = nil)
        @initial_offset = value.to_s unless value.nil?
        @initial_offset || App.config.initial_offset.to_s
      end

      # @return [Boolean] whether `initial_offset` was set on the topic
      def own_initial_offset?
        !@initial_offset.nil?
      end

      # Karafka's `manual_offset_management`: an Active Job topic's is always on (the engine
      # commits each job's offset once it ran, as Karafka's Active Job consumer marks it), and
      # turning it off there is refused at routing, as Karafka does; a `topic` route keeps the
      # value given. Without an argument it reads it.
      # @param value [Boolean, nil]
      # @return [Boolean]
      def manual_offset_management(value = nil)
        @manual_offset_management = value unless value.nil?
        manual_offset_management?
      end

      # @return [Boolean]
      def manual_offset_management?
        return @manual_offset_management == true if @custom || @manual_offset_management == false

        true
      end

      # @return [Boolean] whether the topic's cluster (its `bootstrap.servers`) is another than
      #   `config.kafka`'s
      def other_cluster?
        servers = ->(settings) { settings.find { |key, _| key.to_s == 'bootstrap.servers' }&.last.to_s }
        own_kafka? && servers.call(kafka) != servers.call(App.config.kafka)
      end

      # Jobs longer than `max.poll.interval.ms` are safe on every karafka-rs topic: the
      # consumer loop keeps polling on its own thread while workers run jobs, and a busy
      # partition's next jobs wait in its queue. Accepted (and shown by `karafka info`) so
      # Karafka routes work unchanged.
      # @param value [Boolean]
      def long_running_job(value = true)
        @long_running_job = value
      end

      # @return [Boolean]
      def long_running_job?
        @long_running_job
      end

      # After `max_retries` failed retries a job goes to `topic` (with `source_*` headers) and
      # its partition moves on. `topic: false` skips such jobs without dispatching them.
      # @param topic [String, Symbol, false]
      # @param max_retries [Integer] retries before dispatch (Karafka's default: 3)
      # @param independent [Boolean] give every job its own retry budget
      # Without arguments it reads the setting, as Karafka's does ({#dead_letter_queue?}).
      # @return [DeadLetterQueue]
      def dead_letter_queue(topic: NOT_GIVEN, max_retries: 3, independent: false)
        unless topic.equal?(NOT_GIVEN)
          @dead_letter = { topic: topic == false ? false : topic.to_s, max_retries: max_retries,
                           independent: independent }
        end
        DeadLetterQueue.new(active: !@dead_letter.nil?, **(@dead_letter || { topic: nil, max_retries: 0, independent: false }))
      end

      # @return [Boolean] whether a dead letter queue is routed
      def dead_letter_queue?
        !@dead_letter.nil?
      end

      # Karafka's `topic.declaratives`: the `config(...)` settings, read by name.
      # @return [Declaratives]
      def declaratives
        details = @declaration.except(:partitions, :replication_factor, :active)
        Declaratives.new(active: @declaration[:active] != false, partitions: @declaration.fetch(:partitions, 1),
                         replication_factor: @declaration.fetch(:replication_factor, 1), details: details)
      end

      # Declarative topic settings, as in Karafka: `config(partitions: 6, 'retention.ms': ...)`.
      # @param partitions [Integer]
      # @param settings [Hash] topic-level Kafka settings (kept for `karafka topics create`)
      # Without arguments it reads them back (`topic.config.partitions`), as Karafka's does.
      # @return [Declaratives]
      def config(partitions: NOT_GIVEN, **settings)
        unless partitions.equal?(NOT_GIVEN) && settings.empty?
          @declaration = { partitions: partitions.equal?(NOT_GIVEN) ? 1 : partitions, **settings }
        end
        declaratives
      end

      # @param value [Boolean] whether the server consumes this topic
      def active(value)
        @active = value
      end

      # @return [Boolean]
      def active?
        @active
      end

      # @return [VirtualPartitions, nil]
      attr_reader :virtual_partitions_config

      # Runs a partition's jobs in parallel lanes chosen by `partitioner` (see
      # {VirtualPartitions}); offsets are committed below the lowest job not yet done.
      # @param partitioner [#call] gets the message metadata (`key`, `headers`, ...)
      # @param max_partitions [Integer, nil] lanes per partition (default: `concurrency`)
      # @param reducer [#call, nil] maps the partitioner's value to a lane number
      def virtual_partitions(partitioner:, max_partitions: nil, reducer: nil)
        @virtual_partitions_config = VirtualPartitions.new(partitioner: partitioner, max_partitions: max_partitions,
                                                           reducer: reducer)
      end
    end
  end
end
