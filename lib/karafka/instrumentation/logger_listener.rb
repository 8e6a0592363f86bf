# frozen_string_literal: true

module Karafka
  module Instrumentation
    # Logs what the server and producer do: a line per job and per error, rebalances, pauses.
    class LoggerListener
      # @param log_polling [Boolean] accepted for karafka.rb compatibility (no polling logs here)
      def initialize(log_polling: true)
        @log_polling = log_polling
      end

      # Karafka's two lines (deploy checks and Karafka's own scenarios look for "Running Karafka").
      def on_app_running(_event)
        info "Running in #{RUBY_DESCRIPTION}"
        info "Running Karafka server (karafka-rs #{Karafka::VERSION})"
      end

      def on_app_quieting(_event)
        info 'Switching to quiet mode. New messages will not be processed'
      end

      def on_app_quiet(_event)
        info 'Reached quiet mode. No messages will be processed anymore'
      end

      # Every signal `karafka server` traps; TTIN also prints every thread's backtrace (to
      # find what a stuck process waits on), as Karafka's listener does.
      def on_process_notice_signal(event)
        info "Received #{event[:signal]} system signal"
        return unless event[:signal] == :SIGTTIN

        Thread.list.each do |thread|
          backtrace = thread.backtrace
          warn "Thread TID-#{(thread.object_id ^ ::Process.pid).to_s(36)} #{thread.name}\n" \
               "#{backtrace && !backtrace.empty? ? backtrace.join("\n") : '<no backtrace available>'}"
        end
      end

      def on_app_stopping(_event)
        info 'Stopping Karafka server'
      end

      def on_app_stopped(_event)
        info 'Stopped Karafka server'
      end

      # Whether this listener would log nothing for `event_name` now (Monitor#silenceable): the
      # per-job line is INFO, so below that level the job path builds no event for it.
      # @param event_name [String]
      def silent_on?(event_name)
        event_name == 'worker.processed' && !logger.info?
      end

      # The logger whose level {#silent_on?} reads: the executor asks it directly per job, and
      # looks it up again only after `config.logger=` (ActiveJob::PathEpoch).
      # @return [Logger]
      def logger
        Karafka.logger
      end

      def on_worker_processed(event)
        return unless logger.info?

        info format('[%<id>s] %<klass>s performed (%<topic>s/%<partition>d/%<offset>d) in %<time>.2f ms',
                    id: event[:job_id], klass: event[:job_class], topic: event[:topic],
                    partition: event[:partition], offset: event[:offset], time: event[:time])
      end

      def on_active_job_cancelled(event)
        info "[#{event[:job_id]}] #{event[:job_class]} cancelled: skipped " \
             "(#{event[:topic]}/#{event[:partition]}/#{event[:offset]})"
      end

      def on_active_job_overdue(event)
        warn format('[%<id>s] %<klass>s overdue: running for %<for>.1f s, deadline %<deadline>.1f s ' \
                    '(%<topic>s/%<partition>d/%<offset>d)',
                    id: event[:job_id], klass: event[:job_class], for: event[:running_for],
                    deadline: event[:deadline], topic: event[:topic], partition: event[:partition],
                    offset: event[:offset])
      end

      def on_consumer_consuming_pause(event)
        warn "Pausing partition #{event[:topic]}/#{event[:partition]} at offset #{event[:offset]} " \
             "for #{event[:timeout]} ms after #{event[:attempt]} failed attempt(s)"
      end

      def on_dead_letter_queue_dispatched(event)
        target = event[:dead_letter_topic] ? "dispatched to #{event[:dead_letter_topic]}" : 'skipped'
        warn "Job at #{event[:topic]}/#{event[:partition]}/#{event[:offset]} #{target} " \
             "after #{event[:attempts]} failed attempt(s)"
      end

      def on_rebalance_partitions_assigned(event)
        info "Assigned partitions: #{format_partitions(event[:partitions])}"
      end

      def on_rebalance_partitions_revoked(event)
        info "Revoked partitions: #{format_partitions(event[:partitions])}"
      end

      def on_error_occurred(event)
        error = event[:error]
        where = event[:topic] ? " (#{event[:topic]}/#{event[:partition]}/#{event[:offset]})" : ''
        job = event[:job_class] ? " #{event[:job_class]} [#{event[:job_id]}]" : ''
        logger.error "#{event[:type]}#{job}#{where}: #{error.class}: #{ActiveJob::Executor.truncate(error.message.to_s)}"
        backtrace = error.respond_to?(:backtrace) && error.backtrace
        logger.error(backtrace.first(10).join("\n")) if backtrace
      end

      private

      def format_partitions(partitions)
        partitions.map { |topic, partition| "#{topic}/#{partition}" }.join(', ')
      end

      def info(message)
        logger.info(message)
      end

      def warn(message)
        logger.warn(message)
      end
    end
  end
end
