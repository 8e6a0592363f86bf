# frozen_string_literal: true

module Karafka
  module ActiveJob
    # Counts changes to whether a job may run on the executor's plain path, and to what that
    # path asks per job: a subscription (Instrumentation::Monitor), `config.logger=`, a
    # deadline declared (a job class that declares one may load only when its first job runs)
    # and current attributes persisted. An executor looks at all of them again only when this
    # moved, so a job pays one comparison for them. Loaded with the monitor and the config,
    # with or without Active Job.
    module PathEpoch
      @value = 0

      class << self
        # @return [Integer]
        attr_reader :value

        # Called by the setters, under the GVL.
        def bump!
          @value += 1
        end
      end
    end
  end
end
