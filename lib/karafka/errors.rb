# frozen_string_literal: true

module Karafka
  # All errors karafka-rs raises. The native extension raises these classes too (each looked
  # up once), so every failure a user sees is a `Karafka::Errors::BaseError`.
  module Errors
    # Base class of every karafka-rs error. One raised for a librdkafka error carries its code
    # as karafka-rdkafka names it (`:msg_timed_out`, `:unknown_topic_or_part`, `:queue_full`,
    # or karafka-rs' own `:wait_timeout`), and librdkafka's classification of that code.
    class BaseError < StandardError
      # @return [Symbol, nil] the code, nil when the error has none
      attr_reader :code

      # @param message [String, nil]
      # @param code [Symbol, nil]
      # @param retryable [Boolean] trying the same again may succeed (a timeout, a full queue,
      #   a leader not available): not a permanent refusal
      # @param fatal [Boolean] the client that reported it cannot go on (librdkafka's `_FATAL`)
      def initialize(message = nil, code: nil, retryable: false, fatal: false)
        super(message)
        @code = code
        @retryable = retryable
        @fatal = fatal
      end

      # @return [Boolean]
      def retryable?
        @retryable
      end

      # @return [Boolean]
      def fatal?
        @fatal
      end
    end
    # Invalid `setup` settings, routing or `karafka_options` (raised at boot / class definition).
    InvalidConfigurationError = Class.new(BaseError)
    # librdkafka refused the `kafka` settings.
    InvalidKafkaConfigError = Class.new(BaseError)
    # A message given to the producer is not valid (missing topic, non-String payload, ...).
    MessageInvalidError = Class.new(BaseError)
    # A message could not be enqueued or delivered.
    ProduceError = Class.new(BaseError)
    # Admin (topics, offsets) operation failed.
    AdminError = Class.new(BaseError)
    # Karafka's admin calls raise karafka-rdkafka's `Rdkafka::RdkafkaError` (apps `rescue` it and
    # read `code`, e.g. `:topic_already_exists`); karafka-rs' AdminError answers to that name too
    # unless the real rdkafka gem is loaded (its class cannot be mixed in).
    module ::Rdkafka
      RdkafkaError = Module.new unless const_defined?(:RdkafkaError)
    end
    AdminError.include(::Rdkafka::RdkafkaError) if ::Rdkafka::RdkafkaError.instance_of?(Module)
    # An error the consumer client reported (Karafka's `librdkafka.error` and
    # `connection.client.poll.error`), with librdkafka's `code` (e.g. `:transport`,
    # `:max_poll_exceeded`); an `Rdkafka::RdkafkaError` as AdminError is.
    ClientError = Class.new(BaseError)
    ClientError.include(::Rdkafka::RdkafkaError) if ::Rdkafka::RdkafkaError.instance_of?(Module)
    # Subscribing the consumer to the routed topics failed.
    SubscriptionError = Class.new(BaseError)
    # The producer or engine was already closed.
    ClosedError = Class.new(BaseError)
    # `karafka.rb` (or `KARAFKA_BOOT_FILE`) does not exist.
    MissingBootFileError = Class.new(BaseError)
    # Karafka::Cli.start was given a command karafka does not have.
    UnrecognizedCommandError = Class.new(BaseError)
    # A consumed message is not a serialized Active Job (valid JSON, wrong shape).
    InvalidJobPayloadError = Class.new(BaseError)
    # A feature a job or route asked for that this version does not provide.
    UnsupportedFeatureError = Class.new(BaseError)
    # The server could not stop within `shutdown_timeout`.
    ForcefulShutdownError = Class.new(BaseError)

    # A job was enqueued for a future time but its class names no schedules topic. Like
    # Karafka's (which raises NotImplementedError there), `rescue NotImplementedError` catches
    # it; note that a bare `rescue` does not (NotImplementedError is a ScriptError).
    SchedulingNotConfiguredError = Class.new(NotImplementedError)

    # `produce_sync` / `produce_many_sync` got a failed delivery report. Its `code` is the first
    # failure's; `retryable?` when every failure is, `fatal?` when any is. It is WaterDrop's
    # `ProduceManyError` too: `dispatched` has a delivery handle for each message that may have
    # reached Kafka (delivered, or not reported within the wait); the others did not.
    class DeliveryError < ProduceError
      # @return [Array<Hash>] one `{ topic:, partition:, code:, message:, retryable:, fatal: }`
      #   per failed message (`code` a Symbol, as {BaseError#code})
      attr_reader :failures
      # @return [Array<Producer::DeliveryHandle::Done>]
      attr_reader :dispatched

      # @param failures [Array<Hash>]
      # @param total [Integer] messages in the call
      # @param dispatched [Array<Producer::DeliveryHandle::Done>]
      def initialize(failures, total, dispatched: [])
        @failures = failures
        @dispatched = dispatched
        first = failures.first
        super("#{failures.size} of #{total} message(s) failed to be delivered; first: " \
              "#{first[:topic]}: #{first[:code]} (#{first[:message]})",
              code: first[:code], retryable: failures.all? { |f| f[:retryable] }, fatal: failures.any? { |f| f[:fatal] })
      end
    end
  end
end
