# frozen_string_literal: true

module Karafka
  class Producer
    # Where a produced message was stored, as WaterDrop's (rdkafka's) delivery report reads:
    # `topic_name`, `partition`, `offset`, and `error` (nil unless a delivery handle was waited
    # for with `raise_response_error: false` and the delivery failed).
    DeliveryReport = Struct.new(:topic, :partition, :offset, :error, keyword_init: true) do
      # @param delivery [Native::Delivery]
      # @return [DeliveryReport]
      def self.from_delivery(delivery)
        return new(topic: delivery.topic, partition: delivery.partition, offset: delivery.offset) if delivery.offset

        failure = { topic: delivery.topic, partition: delivery.partition, code: delivery.code,
                    message: delivery.message, retryable: delivery.retryable, fatal: delivery.fatal }
        new(topic: delivery.topic, partition: delivery.partition, error: Errors::DeliveryError.new([failure], 1))
      end

      # @param seconds [Numeric] how long a delivery handle waited
      # @return [DeliveryReport] without a place, its error `:wait_timeout`
      def self.timed_out(seconds)
        failure = { topic: nil, partition: -1, code: :wait_timeout, retryable: true, fatal: false,
                    message: "no delivery report within #{seconds} s" }
        new(partition: -1, error: Errors::DeliveryError.new([failure], 1))
      end

      # @return [String] (rdkafka's name)
      def topic_name
        topic
      end

      # @return [nil] WaterDrop's labels are not kept
      def label
        nil
      end

      # @return [String] "topic/partition/offset", used as the job's provider_job_id
      def to_s
        "#{topic}/#{partition}/#{offset}"
      end
    end
  end
end
