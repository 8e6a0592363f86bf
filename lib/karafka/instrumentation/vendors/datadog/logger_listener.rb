# frozen_string_literal: true

require 'forwardable'
require_relative '../configurable'

module Karafka
  module Instrumentation
    module Vendors
      module Datadog
        # Karafka's Datadog tracing listener, set up in karafka.rb as Karafka documents it:
        #
        #   require 'ddtrace' # or 'datadog'
        #   require 'karafka/instrumentation/vendors/datadog/logger_listener'
        #   dd_logger_listener = Karafka::Instrumentation::Vendors::Datadog::LoggerListener.new do |config|
        #     config.client = Datadog::Tracing
        #   end
        #   Karafka.monitor.subscribe(dd_logger_listener)
        #
        # As Karafka's: a `karafka.consumer` span per job (service `service_name`, resource
        # `Karafka::ActiveJob::Consumer#consume`, the consumer Karafka runs Active Job topics
        # with), opened on `worker.process` and finished on `worker.processed`; an error sets
        # the error on the span; "started" / "finished" / error lines go to `Karafka.logger`,
        # with Datadog's log correlation pushed as tags when the logger is tagged
        # (ActiveSupport::TaggedLogging).
        #
        # Where karafka-rs differs: a failed job publishes no `worker.processed` (Karafka's
        # does), so its span is finished on `worker.completed`, which brackets every job. The
        # id in the log lines is the Active Job id (Karafka logs its executor's).
        class LoggerListener
          include Configurable
          extend Forwardable

          # `client`: `Datadog::Tracing`; `service_name`: the spans' service (nil: Datadog's default).
          Settings = Configurable.settings(client: nil, service_name: nil)

          SPAN_NAME = 'karafka.consumer'
          # What Karafka calls the consumer of an Active Job topic, and the job type and action
          # it runs for a job: karafka-rs runs every job as that consume.
          CONSUMER = 'Karafka::ActiveJob::Consumer'
          JOB_TYPE = 'Consume'
          RESOURCE = "#{CONSUMER}#consume".freeze

          # Karafka's line (and level) for the error types karafka-rs publishes; any other type
          # gets "<type> error occurred: <error>".
          ERROR_LINES = {
            'consumer.consume.error' => [:error, 'Consumer consuming error'],
            'worker.process.error' => [:fatal, 'Worker processing failed due to an error'],
            'connection.listener.fetch_loop.error' => [:error, 'Listener fetch loop error'],
            'runner.call.error' => [:fatal, 'Runner crashed due to an error'],
            'librdkafka.error' => [:error, 'librdkafka internal error occurred'],
            'connection.client.poll.error' => [:error, 'Data polling error occurred']
          }.freeze

          def_delegators :config, :client, :service_name

          def initialize(&block)
            super
            # The span each worker thread has open: a job runs on one thread from
            # `worker.process` to `worker.completed`.
            @span_key = :"karafka_datadog_span_#{object_id}"
          end

          # @param event [Monitor::Event] `job_id`, `topic`
          def on_worker_process(event)
            span = client.trace(SPAN_NAME, service: service_name)
            span.resource = RESOURCE
            Thread.current[@span_key] = span
            tagged { log(:info, "[#{event[:job_id]}] #{JOB_TYPE} job for #{CONSUMER} on #{event[:topic]} started") }
          end

          # @param event [Monitor::Event] `job_id`, `topic`, `time` (ms)
          def on_worker_processed(event)
            tagged do
              log(:info, "[#{event[:job_id]}] #{JOB_TYPE} job for #{CONSUMER} on #{event[:topic]} finished in #{event[:time]}ms")
            end
            finish_span
          end

          # A failed job's span (its `worker.processed` is never published); nothing left for
          # one that succeeded.
          # @param _event [Monitor::Event]
          def on_worker_completed(_event)
            finish_span
          end

          # The job's span, or outside a job whatever span is active, carries the error.
          # @param event [Monitor::Event] `type`, `error`
          def on_error_occurred(event)
            error = event[:error]
            (Thread.current[@span_key] || client.active_span)&.set_error(error)
            level, line = ERROR_LINES.fetch(event[:type]) { [:error, "#{event[:type]} error occurred"] }
            tagged { log(level, "#{line}: #{error}") }
          end

          private

          def finish_span
            span = Thread.current[@span_key] or return

            Thread.current[@span_key] = nil
            span.finish
          end

          def log(level, line)
            ::Karafka.logger.public_send(level, line)
          end

          # Datadog's trace and span ids on the lines logged meanwhile (a tagged logger only).
          def tagged
            logger = ::Karafka.logger
            return yield unless logger.respond_to?(:push_tags)

            logger.push_tags(client.log_correlation)
            begin
              yield
            ensure
              logger.pop_tags
            end
          end
        end
      end
    end
  end
end
