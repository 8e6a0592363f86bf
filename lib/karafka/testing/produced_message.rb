# frozen_string_literal: true

module Karafka
  module Testing
    # One entry of `karafka.produced_messages`: the message Hash as it was given to the
    # producer (`produced_messages.first[:topic]`, as in karafka-testing), readable with
    # methods too (`produced_messages.last.payload`, as Karafka's docs write it).
    class ProducedMessage < Hash
      %i[topic payload key partition_key partition headers].each do |field|
        define_method(field) { self[field] }
      end
    end
  end
end
