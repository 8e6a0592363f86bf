# frozen_string_literal: true

module Karafka
  class Producer
    # Where a synchronously produced message was stored.
    DeliveryReport = Struct.new(:topic, :partition, :offset, keyword_init: true) do
      # @return [String] "topic/partition/offset", used as the job's provider_job_id
      def to_s
        "#{topic}/#{partition}/#{offset}"
      end
    end
  end
end
