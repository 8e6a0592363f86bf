# frozen_string_literal: true

module Karafka
  module Testing
    # Errors of the testing helpers (the names karafka-testing uses).
    module Errors
      # Base class of the helpers' errors.
      BaseError = Class.new(::Karafka::Errors::BaseError)
      # `consumer_for` was given a topic that `Karafka::App.routes` does not route.
      TopicNotFoundError = Class.new(BaseError)
      # `consumer_for` found the topic in several consumer groups: pass `consumer_group:`.
      TopicInManyConsumerGroupsError = Class.new(BaseError)
      # `consumer_for` was given a consumer group that no route uses.
      ConsumerGroupNotFoundError = Class.new(BaseError)
      # A job failed in `consume` and its error could not be re-raised as it was.
      JobFailedError = Class.new(BaseError)
    end
  end
end
