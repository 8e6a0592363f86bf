# frozen_string_literal: true

module Karafka
  class Producer
    # WaterDrop's `producer.status`: `connected` (karafka-rs' producers are ready once
    # built), then `closed`.
    class Status
      # @param producer [Producer]
      def initialize(producer)
        @producer = producer
      end

      # @return [String] `connected` or `closed`
      def to_s
        @producer.closed? ? 'closed' : 'connected'
      end

      # @return [Boolean]
      def active?
        !closed?
      end

      %w[configured connected closed].each do |name|
        define_method(:"#{name}?") { to_s == name }
      end

      # @return [false] karafka-rs' producers are ready once built
      def initial?
        false
      end
    end
  end
end
