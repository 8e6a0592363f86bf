# frozen_string_literal: true

# Enqueued synchronously: `perform_later` returns only once Kafka has acknowledged the
# message (and raises if it could not be delivered).
class OrderReceiptJob < ApplicationJob
  queue_as :default
  karafka_options(dispatch_method: :produce_sync)

  def perform(order_id, total)
    record("OrderReceiptJob ran for order #{order_id} (total #{format('%.2f', total)})")
  end
end
