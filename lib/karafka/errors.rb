# frozen_string_literal: true

module Karafka
  # All errors karafka-rs raises. The native extension raises these classes too (looked up by
  # name), so every failure a user sees is a `Karafka::Errors::BaseError`.
  module Errors
    # Base class of every karafka-rs error.
    BaseError = Class.new(StandardError)
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
    # Subscribing the consumer to the routed topics failed.
    SubscriptionError = Class.new(BaseError)
    # The producer or engine was already closed.
    ClosedError = Class.new(BaseError)
    # `karafka.rb` (or `KARAFKA_BOOT_FILE`) does not exist.
    MissingBootFileError = Class.new(BaseError)
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

    # `produce_sync` / `produce_many_sync` got a failed delivery report.
    class DeliveryError < ProduceError
      # @return [Array<Hash>] one `{ topic:, partition:, code:, message: }` per failed message
      attr_reader :failures

      # @param failures [Array<Hash>]
      # @param total [Integer] messages in the call
      def initialize(failures, total)
        @failures = failures
        first = failures.first
        super("#{failures.size} of #{total} message(s) failed to be delivered; first: " \
              "#{first[:topic]}: #{first[:code]} (#{first[:message]})")
      end
    end
  end
end
