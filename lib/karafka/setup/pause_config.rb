# frozen_string_literal: true

module Karafka
  module Setup
    # `config.pause.*`: how long a failing partition waits before its job is retried.
    # Karafka's defaults: 1 s, doubling per consecutive failure, at most 30 s.
    class PauseConfig
      # @return [Integer] first pause in milliseconds
      attr_accessor :timeout
      # @return [Integer] longest pause in milliseconds
      attr_accessor :max_timeout
      # @return [Boolean] double the pause per consecutive failure
      attr_accessor :with_exponential_backoff

      def initialize
        @timeout = 1_000
        @max_timeout = 30_000
        @with_exponential_backoff = true
      end
    end
  end
end
