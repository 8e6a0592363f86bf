# frozen_string_literal: true

# WaterDrop's error classes, for apps that rescue them around `Karafka.producer` calls. They
# are karafka-rs' own classes under WaterDrop's names: `rescue WaterDrop::Errors::ProduceError`
# catches a failed or timed-out `produce_sync` (a Karafka::Errors::DeliveryError).
module WaterDrop
  # @see Karafka::Errors
  module Errors
    BaseError = Karafka::Errors::BaseError
    ProduceError = Karafka::Errors::ProduceError
    ProduceManyError = Karafka::Errors::DeliveryError
  end
end
