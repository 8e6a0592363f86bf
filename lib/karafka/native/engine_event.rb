# frozen_string_literal: true

module Karafka
  module Native
    # What `Native::Engine#_take_events` reports, one per event. `kind` and what comes with it:
    # - `:assigned` / `:revoked`: `partitions`, `[[topic, partition], ...]`;
    # - `:error`: `detail`, the `error.occurred` type (e.g. `connection.client.poll.error`),
    #   `message`, and `code` (librdkafka's, as a Symbol) when the consumer client reported it;
    # - `:statistics`: `detail`, librdkafka's statistics JSON;
    # - `:info` (a log line) and `:reset` (a consumer replaced after a fatal error): `message`.
    EngineEvent = Struct.new(:kind, :partitions, :detail, :message, :code)
  end
end
