# frozen_string_literal: true

module Karafka
  module Instrumentation
    # Karafka's notifications bus: subscribe, instrument and register events on it. Here a
    # {Monitor} is its own bus, so this is one; a custom monitor written for Karafka
    # (`super(Notifications.new, nil)`) gets one more instance it never uses.
    # EVENTS is Karafka's list of its events, as apps read it (`Notifications::EVENTS.each do
    # |name| Karafka.monitor.subscribe(name) { ... } end` pipes them to ActiveSupport::Notifications).
    class Notifications < Monitor
      EVENTS = (Instrumentation::EVENTS - WATERDROP_EVENTS +
                %w[error.occurred statistics.emitted oauthbearer.token_refresh]).uniq.freeze
    end
  end
end
