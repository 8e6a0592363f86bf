# frozen_string_literal: true

module Karafka
  # The monotonic clock, for intervals and deadlines (wall-clock changes do not move it).
  # `include Clock` (or `extend Clock`) gives a private `monotonic`.
  module Clock
    module_function

    # @return [Float] seconds
    def monotonic
      ::Process.clock_gettime(::Process::CLOCK_MONOTONIC)
    end
  end
end
