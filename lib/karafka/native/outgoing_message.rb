# frozen_string_literal: true

module Karafka
  module Native
    # One message for `Native::Producer#_produce_sync` / `#_produce_async`, valid as built
    # (Producer::Message.to_row checks a WaterDrop message hash; the job dispatcher builds
    # them directly). Rust reads its members by name (ext/karafka_rs/src/bridge/convert.rs).
    # Positional: it is built once per enqueued job.
    # `headers` is `[[name, value], ...]` (Strings), `partition` an Integer or nil,
    # `timestamp` milliseconds since the epoch or nil, `label` a {Producer::Labels} token or nil.
    OutgoingMessage = Struct.new(:topic, :payload, :key, :partition_key, :partition, :headers, :timestamp, :label)
  end
end
