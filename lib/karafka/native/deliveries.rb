# frozen_string_literal: true

module Karafka
  module Native
    # One message's delivery report of `Native::Producer#_produce_sync`: `offset` when it was
    # delivered; else `code` (a Symbol, karafka-rdkafka's name: `:msg_timed_out`), `message`,
    # and librdkafka's classification of the code (`retryable`, `fatal`).
    Delivery = Struct.new(:topic, :partition, :offset, :code, :message, :retryable, :fatal)

    # An async message that was not delivered (`Native::Producer#_take_failures`, `#_close`):
    # `code`, `message`, `retryable`, `fatal` as in {Delivery}; `job_class` / `job_id` when its
    # payload was a serialized job; `label` its {Producer::Labels} token when it had a label.
    DeliveryFailure = Struct.new(:topic, :partition, :code, :message, :retryable, :fatal, :job_class, :job_id, :label)

    # An async message the broker took, reported while someone listens to WaterDrop's
    # `message.acknowledged` (`Native::Producer#_acknowledge`): `label` is its
    # {Producer::Labels} token when it had a label.
    Acknowledgement = Struct.new(:topic, :partition, :offset, :label)
  end
end
