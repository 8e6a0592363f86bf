# frozen_string_literal: true

module Karafka
  class Admin
    # A broker change shows a moment after the request returns (metadata, topic settings):
    # Admin asks again until it does, within a bound.
    module Polling
      module_function

      # @param seconds [Numeric] how long to keep asking
      # @param step [Numeric] seconds between two asks
      # @yieldreturn [Boolean] whether the change shows
      # @return [Boolean] whether it showed within `seconds`
      def until_true(seconds, step)
        deadline = ::Process.clock_gettime(::Process::CLOCK_MONOTONIC) + seconds
        loop do
          return true if yield
          return false if ::Process.clock_gettime(::Process::CLOCK_MONOTONIC) > deadline

          sleep(step) # the brokers' propagation time, not a sync point
        end
      end
    end
  end
end
