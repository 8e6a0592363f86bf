# frozen_string_literal: true

module Karafka
  class Producer
    # The producer's reporter thread (`karafka.producer.reporter`): it waits, GVL released, for
    # what librdkafka reports of async dispatches and publishes it: failures as
    # `error.occurred` (or a log line when nobody listens), deliveries as
    # `message.acknowledged` while someone listens, and labels to forget ({Labels}).
    module Reporter
      private

      # Started on the first async dispatch, so processes that never produce run no thread.
      def start_reporter
        watch_acknowledgements
        return if @reporter&.alive?

        @reporter_mutex.synchronize do
          return if @reporter&.alive?

          @reporter = Thread.new { report_failures }
          @reporter.name = 'karafka.producer.reporter'
        end
      end

      # Close takes over from here: what fails from now on is reported by `close`, in one place.
      def stop_reporter
        return unless @reporter

        native._stop_reporting
        @reporter.join(5)
      rescue Errors::ClosedError
        nil
      end

      # The reporter thread: async failures (error.occurred), deliveries while someone listens
      # (message.acknowledged), and labels to forget.
      def report_failures
        while (taken = native._take_failures(1_000))
          failures, dropped, settled, acknowledged, acknowledged_dropped = taken
          @labels.settle(settled)
          failures.each { |failure| report_failure(failure, @labels.take(failure.label)) }
          acknowledged.each { |ack| Acknowledgements.publish(@monitor, id, Acknowledgements.report(ack, @labels)) }
          Karafka.logger.error("#{dropped} more async delivery failures were not kept (too many)") if dropped.positive?
          if acknowledged_dropped.positive?
            Karafka.logger.warn("#{acknowledged_dropped} message.acknowledged events were not published: its listeners fell behind")
          end
        end
      rescue Errors::ClosedError
        nil
      end

      # Async deliveries are reported natively only while someone listens to
      # `message.acknowledged`. Looked up again only after a (un)subscription (the monitor bumps
      # PathEpoch), so an async dispatch pays one comparison; the setting holds for the
      # messages of that dispatch on.
      def watch_acknowledgements
        return if @acknowledging_epoch == ActiveJob::PathEpoch.value

        @acknowledging_epoch = ActiveJob::PathEpoch.value
        native._acknowledge(@monitor.listening?(Acknowledgements::EVENT))
      end

      # @param failure [Native::DeliveryFailure]
      # @param label [Object, nil] the message's WaterDrop label
      def report_failure(failure, label)
        if @monitor.listening?('error.occurred')
          @monitor.instrument('error.occurred', Undelivered.event(failure, label, id))
        else
          job = failure.job_class ? " (#{failure.job_class} #{failure.job_id})" : ''
          Karafka.logger.error("Async delivery to #{failure.topic}/#{failure.partition} failed#{job}: " \
                               "#{failure.code}: #{failure.message}")
        end
      end
    end
  end
end
