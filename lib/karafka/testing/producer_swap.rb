# frozen_string_literal: true

module Karafka
  module Testing
    # Prepended to `Karafka`'s singleton: while a test runs, `Karafka.producer` (and with it
    # `perform_later`, `perform_all_later` and `karafka_options(producer:)` lambdas that call
    # it) is the {BufferedProducer}. Outside tests, the real producer, untouched.
    module ProducerSwap
      # @return [Karafka::Producer, BufferedProducer]
      def producer
        Testing.current ? Testing.producer : super
      end
    end
  end
end
