# frozen_string_literal: true

module Karafka
  class Producer
    # What `produce_async` returns, as WaterDrop's (rdkafka's) delivery handle: `wait` blocks
    # until the broker took the message (or gave up on it) and returns its {DeliveryReport}.
    # A failed delivery is reported through `error.occurred` whether or not anyone waits.
    class DeliveryHandle
      # @return [Object, nil] the message's WaterDrop `label:`
      attr_reader :label

      # @param pending [Native::PendingDeliveries] the reports of the dispatch it was part of
      # @param index [Integer] this message's place in that dispatch
      # @param label [Object, nil]
      def initialize(pending, index, label = nil)
        @pending = pending
        @index = index
        @label = label
      end

      # @param max_wait_timeout [Numeric] seconds to wait at most (rdkafka's default: 60)
      # @param raise_response_error [Boolean] raise a failed delivery's error; else return the
      #   report with `error` set
      # @return [DeliveryReport]
      # @raise [Errors::DeliveryError] the delivery failed, or no report came within the
      #   timeout (code `:wait_timeout`)
      def wait(max_wait_timeout: 60, raise_response_error: true)
        delivery = @pending._wait(@index, [(max_wait_timeout * 1000).ceil, 0].max)
        report = delivery ? DeliveryReport.from_delivery(delivery, @label) : DeliveryReport.timed_out(max_wait_timeout, @label)
        raise report.error if report.error && raise_response_error

        report
      end

      # @return [Boolean] whether its report has not arrived yet
      def pending?
        @pending._wait(@index, 0).nil?
      end

      # A handle whose report is known already (the testing helpers' producer).
      Done = Struct.new(:report) do
        # @return [Object, nil]
        def label
          report.label
        end

        # @return [DeliveryReport]
        def wait(**)
          report
        end

        # @return [false]
        def pending?
          false
        end
      end
    end
  end
end
