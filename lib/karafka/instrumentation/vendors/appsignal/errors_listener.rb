# frozen_string_literal: true

require_relative 'base'

module Karafka
  module Instrumentation
    module Vendors
      module Appsignal
        # Reports every `error.occurred` to AppSignal with its error object. The consumer and
        # the producer publish the same event, so one instance subscribes to both
        # `Karafka.monitor` and `Karafka.producer.monitor`, as Karafka's docs show. Subscribe
        # it before the {MetricsListener}: a failed job's error then lands in the job's open
        # transaction, which the metrics listener closes on the same event.
        class ErrorsListener < Base
          # `client`: anything answering {Client}'s methods (default: a {Client}).
          Settings = Configurable.settings(client: Client.new)

          # @param event [Monitor::Event]
          def on_error_occurred(event)
            client.report_error(event[:error])
          end
        end
      end
    end
  end
end
