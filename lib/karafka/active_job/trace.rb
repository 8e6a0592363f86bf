# frozen_string_literal: true

module Karafka
  module ActiveJob
    # W3C trace context (`traceparent`, `tracestate`) from the enqueuing code to the job's
    # `perform`, through the job's Kafka headers. On with `config.active_job.traces = true`.
    #
    # At enqueue: OpenTelemetry's propagator when the app has OpenTelemetry, else
    # {.current} (what the app set, e.g. from the request's `traceparent` header).
    # At perform: {.current} holds the job's context for the job's thread, around the job
    # (every ActiveSupport::Notifications event of the job, `perform.active_job` included,
    # is published inside it); with OpenTelemetry the extracted context is also the current
    # one, so the job's spans are children of the enqueuing span.
    module Trace
      KEY = :karafka_trace
      HEADERS = %w[traceparent tracestate].freeze
      NO_HEADERS = [].freeze

      module_function

      # @return [Hash{String => String}, nil] `'traceparent'` (and `'tracestate'`) of this thread
      def current
        Thread.current[KEY]
      end

      # @param context [Hash{String => String}, nil]
      def current=(context)
        Thread.current[KEY] = context
      end

      # Runs the block with `context` as {.current}.
      def with(context)
        previous = Thread.current[KEY]
        Thread.current[KEY] = context
        yield
      ensure
        Thread.current[KEY] = previous
      end

      # @return [Array<Array(String, String)>] the headers of a job enqueued now
      def outgoing
        context = open_telemetry? ? open_telemetry_context : current
        return NO_HEADERS if context.nil? || !context['traceparent'].is_a?(String)

        HEADERS.filter_map { |name| [name, context[name].to_s] if context[name] }
      end

      # @param headers [Hash{String => String}, nil] a job message's headers
      # @return [Hash{String => String}, nil] the trace context they carry
      def context_of(headers)
        parent = headers && headers['traceparent']
        return nil unless parent

        context = { 'traceparent' => parent }
        context['tracestate'] = headers['tracestate'] if headers['tracestate']
        context
      end

      # Runs the job with the context its headers carry (as is when they carry none).
      # @param headers [Hash{String => String}]
      def around(headers, &block)
        context = context_of(headers)
        return yield unless context

        with(context) do
          next yield unless open_telemetry?

          ::OpenTelemetry::Context.with_current(::OpenTelemetry.propagation.extract(context), &block)
        end
      end

      def open_telemetry?
        defined?(::OpenTelemetry::Context) && ::OpenTelemetry.respond_to?(:propagation)
      end

      def open_telemetry_context
        carrier = {}
        ::OpenTelemetry.propagation.inject(carrier)
        carrier.empty? ? current : carrier
      end
    end
  end
end
