# frozen_string_literal: true

module Karafka
  # Karafka's base class for hand-written consumers. karafka-rs runs Active Job topics only and
  # never runs one of these; the class is here so that an app coming from Karafka keeps
  # loading the consumers it has (the `ApplicationConsumer < Karafka::BaseConsumer` that
  # Karafka's installer writes, eager-loaded in production), and so that the `caller` of
  # karafka-rs' consume events ({ActiveJob::Consumer}) is a `Karafka::BaseConsumer`, as it is
  # in Karafka. Routing a topic to a consumer is refused at boot, naming the topic
  # ({Routing::Builder}).
  class BaseConsumer
    # Karafka calls this with each batch; karafka-rs never does.
    def consume
      raise Errors::UnsupportedFeatureError,
            "#{self.class}#consume: karafka-rs runs Active Job topics only (active_job_topic), not custom consumers"
    end
  end
end
