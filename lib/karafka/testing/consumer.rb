# frozen_string_literal: true

require 'delegate'

module Karafka
  module Testing
    # What `karafka.consumer_for(:topic)` returns: the topic's Active Job consumer. `messages`
    # are the messages produced to the topic in this test (before or after the consumer was
    # built); `consume` runs them in order, in this thread, through karafka-rs's own executor
    # (the same JSON parsing, CurrentAttributes restore and instrumentation as `karafka
    # server`), without a broker. A failing job raises its error out of `consume`, as
    # Karafka's consumer does under karafka-testing; the jobs after it do not run.
    class Consumer
      # Karafka.monitor, remembering the job error the executor reports, so that `consume`
      # can raise it (the executor turns failures into outcomes for the engine).
      class ErrorCapture < SimpleDelegator
        # @return [Exception, nil]
        attr_accessor :error

        def instrument(name, payload = {}, &block)
          @error = payload[:error] if name == 'error.occurred' && payload[:type] == 'consumer.consume.error'
          __getobj__.instrument(name, payload, &block)
        end

        def listening?(name)
          name == 'error.occurred' || __getobj__.listening?(name)
        end
      end
      private_constant :ErrorCapture

      # @return [Object] the route (`topic.name` is the topic's name)
      attr_reader :topic
      # @return [String] the consumer group of the route
      attr_reader :consumer_group_name

      # @param example [Example]
      # @param topic [Object] the route
      # @param consumer_group_name [String]
      def initialize(example, topic, consumer_group_name)
        @example = example
        @topic = topic
        @consumer_group_name = consumer_group_name
      end

      # @return [Messages] every message produced to this consumer's topic in this test
      def messages
        Messages.new(@example.messages_for(topic.name, consumer_group_name))
      end

      # @return [Integer] 0, as karafka-testing's consumers (messages keep their own partition)
      def partition
        0
      end

      # @return [BufferedProducer]
      def producer
        Karafka.producer
      end

      # Runs {messages}' jobs. Jobs they enqueue are produced (and buffered) too; those that
      # land on this topic run on the next `consume`, together with every earlier message, as
      # with karafka-testing, whose batch holds all the test's messages.
      # @return [nil]
      # @raise [StandardError] the first failing job's error
      def consume
        capture = ErrorCapture.new(Karafka.monitor)
        executor = ::Karafka::ActiveJob::Executor.new(capture)
        messages.each do |message|
          capture.error = nil
          headers = message.headers.empty? ? nil : message.headers
          outcome = executor.call(message.raw_payload, message.topic, message.partition, message.offset,
                                  message.key, headers, 0)
          next if outcome.success?

          raise capture.error if capture.error

          location = "#{message.topic}/#{message.partition}/#{message.offset}"
          raise Errors::JobFailedError, "job at #{location} failed: #{outcome.error_class}: #{outcome.error_message}"
        end
        nil
      end
    end
  end
end
