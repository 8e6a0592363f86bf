# frozen_string_literal: true

module Karafka
  class Producer
    # Where a produced message was stored, as WaterDrop's (rdkafka's) delivery report reads:
    # `topic_name`, `partition`, `offset`, `label` (the message's WaterDrop `label:`), and
    # `error` (nil unless the delivery failed: a delivery handle waited for with
    # `raise_response_error: false`, or `error.occurred`'s `delivery_report`).
    DeliveryReport = Struct.new(:topic, :partition, :offset, :error, :label, keyword_init: true) do
      # @param delivery [Native::Delivery]
      # @param label [Object, nil]
      # @return [DeliveryReport]
      def self.from_delivery(delivery, label = nil)
        if delivery.offset
          return new(topic: delivery.topic, partition: delivery.partition, offset: delivery.offset, label: label)
        end

        failure = { topic: delivery.topic, partition: delivery.partition, code: delivery.code,
                    message: delivery.message, retryable: delivery.retryable, fatal: delivery.fatal }
        new(topic: delivery.topic, partition: delivery.partition, error: Errors::DeliveryError.new([failure], 1),
            label: label)
      end

      # @param seconds [Numeric] how long a delivery handle waited
      # @param label [Object, nil]
      # @return [DeliveryReport] without a place, its error `:wait_timeout`
      def self.timed_out(seconds, label = nil)
        failure = { topic: nil, partition: -1, code: :wait_timeout, retryable: true, fatal: false,
                    message: "no delivery report within #{seconds} s" }
        new(partition: -1, error: Errors::DeliveryError.new([failure], 1), label: label)
      end

      # @return [String] (rdkafka's name)
      def topic_name
        topic
      end

      # @return [String] "topic/partition/offset", used as the job's provider_job_id
      def to_s
        "#{topic}/#{partition}/#{offset}"
      end
    end
  end
end
