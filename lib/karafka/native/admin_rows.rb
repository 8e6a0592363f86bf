# frozen_string_literal: true

module Karafka
  module Native
    # One stored message of `Native::Admin._read`: `timestamp_ms` may be nil, `key` and
    # `payload` are binary Strings or nil, `headers` a Hash.
    StoredMessage = Struct.new(:offset, :timestamp_ms, :key, :payload, :headers)

    # One setting of `Native::Admin._describe_config`: `default`, `read_only`, `sensitive` as
    # the broker reports them; `topic_override`: set on the topic itself.
    ConfigEntry = Struct.new(:name, :value, :default, :read_only, :sensitive, :topic_override)
  end
end
