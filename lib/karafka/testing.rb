# frozen_string_literal: true

require 'karafka'
require_relative 'testing/errors'
require_relative 'testing/produced_message'
require_relative 'testing/message'
require_relative 'testing/messages'
require_relative 'testing/example'
require_relative 'testing/buffered_producer'
require_relative 'testing/producer_swap'
require_relative 'testing/topic_lookup'
require_relative 'testing/consumer'
require_relative 'testing/proxy'

module Karafka
  # karafka-testing's API, shipped with karafka-rs (karafka-testing itself depends on the
  # `karafka` gem and cannot be installed beside it). Load it through
  # `karafka/testing/rspec/helpers` or `karafka/testing/minitest/helpers`.
  #
  # While a test runs, `Karafka.producer` is a {BufferedProducer}: whatever `perform_later` or
  # the app produces is kept in that test's {Example} instead of reaching Kafka, and
  # consumers built with `karafka.consumer_for` run the buffered jobs in-process through
  # karafka-rs's executor.
  module Testing
    class << self
      # @return [Example, nil] the state of the test that is running
      attr_reader :current

      # A fresh buffer for a test; `Karafka.producer` buffers into it until {finish_example}.
      # @return [Example]
      def start_example
        @current = Example.new
      end

      # `Karafka.producer` is the real one again (the finished test's buffer stays readable).
      def finish_example
        @current = nil
      end

      # @return [BufferedProducer] the producer `Karafka.producer` returns inside a test
      def producer
        @producer ||= BufferedProducer.new
      end
    end
  end
end

Karafka.singleton_class.prepend(Karafka::Testing::ProducerSwap)
