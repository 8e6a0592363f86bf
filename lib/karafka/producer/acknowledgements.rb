# frozen_string_literal: true

module Karafka
  class Producer
    # WaterDrop's `message.acknowledged`: one event per message the broker took (`producer_id`,
    # `topic`, `partition`, `offset` and its `delivery_report`, whose `label` is the message's).
    # A sync call's deliveries are its own reports. Async ones are reported by the native
    # producer only while someone listens, for the dispatches made since the subscription
    # ({Reporter}, `watch_acknowledgements`).
    module Acknowledgements
      EVENT = 'message.acknowledged'

      module_function

      # @param monitor [Instrumentation::Monitor]
      # @param producer_id [String]
      # @param report [DeliveryReport] of a delivered message
      def publish(monitor, producer_id, report)
        monitor.instrument(EVENT, producer_id: producer_id, topic: report.topic, partition: report.partition,
                                  offset: report.offset, delivery_report: report)
      end

      # @param acknowledgement [Native::Acknowledgement]
      # @param labels [Labels] where its label waits
      # @return [DeliveryReport]
      def report(acknowledgement, labels)
        DeliveryReport.new(topic: acknowledgement.topic, partition: acknowledgement.partition,
                           offset: acknowledgement.offset, label: labels.take(acknowledgement.label))
      end
    end
  end
end
