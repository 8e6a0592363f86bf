# frozen_string_literal: true

# WaterDrop's monitor and notifications bus, as custom producer monitors subclass them
# (`class TracingMonitor < WaterDrop::Instrumentation::Monitor`, then
# `producer_config.monitor = TracingMonitor.new`): karafka-rs' monitor, which publishes the
# producer's events (WaterDrop's names) as well as Karafka's.
module WaterDrop
  module Instrumentation
    # A producer's notifications bus; EVENTS lists WaterDrop's producer events.
    class Notifications < Karafka::Instrumentation::Notifications
      EVENTS = Karafka::Instrumentation::WATERDROP_EVENTS
    end

    # A producer's monitor.
    class Monitor < Karafka::Instrumentation::Monitor
    end
  end
end
