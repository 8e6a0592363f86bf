# frozen_string_literal: true

module Karafka
  module Web
    # What the dashboard's buttons do, each a plain produce:
    # - retry a dead letter: its payload and key back to its `source_topic` header's topic,
    #   then a "retried" record in the dlq actions topic;
    # - skip a dead letter: only the "skipped" record (the dead letter itself stays in its
    #   topic, which a dashboard cannot delete from; the page shows it as handled);
    # - cancel a schedule: a tombstone for its key in its partition of the schedules topic,
    #   which the engine's scheduler (core/schedules.rs) treats as "not due any more";
    # - cancel a job (config.active_job.cancels_topic): a record in the cancels topic.
    module Actions
      CANCELS_OFF = 'cancelling is off: set config.active_job.cancels_topic (and run karafka topics migrate)'

      module_function

      # @return [Boolean] whether jobs can be cancelled (config.active_job.cancels_topic)
      def cancels?
        !Karafka::App.config.active_job.cancels_topic.nil? && defined?(Karafka::ActiveJob::Cancels) ? true : false
      end

      # A cancel record for the job (lib/karafka/active_job/cancels.rb): skipped if not started.
      # @param job_id [String]
      def cancel_job(job_id)
        Karafka::ActiveJob.cancel(job_id)
      end

      # @return [String] the dlq actions topic's key of one dead letter
      def dlq_key(topic, partition, offset)
        "#{topic}/#{partition}/#{offset}"
      end

      # @param topic [String] a dead letter topic
      # @param partition [Integer]
      # @param offset [Integer]
      # @return [String] the topic the job went back to
      # @raise [ArgumentError] when there is no such dead letter or it names no source topic
      def retry_dead_letter(topic, partition, offset)
        message = Admin.read_topic(topic, partition, 1, offset).find { |found| found.offset == offset }
        raise ArgumentError, "no dead letter at #{dlq_key(topic, partition, offset)}" unless message&.raw_payload

        source = message.headers['source_topic'] or
          raise ArgumentError, "dead letter #{dlq_key(topic, partition, offset)} has no source_topic header"
        Karafka.producer.produce_sync(topic: source, payload: message.raw_payload, key: message.raw_key,
                                      headers: { 'karafka_web_retried_from' => dlq_key(topic, partition, offset) })
        record(topic, partition, offset, 'retried', source)
        source
      end

      # Marks a dead letter as handled without running it.
      def skip_dead_letter(topic, partition, offset)
        record(topic, partition, offset, 'skipped', nil)
      end

      # @param topic [String] a schedules topic
      # @param partition [Integer] the schedule's partition (a tombstone must land beside it)
      # @param key [String] the schedule's key ("<target topic>-<uuid>")
      def cancel_schedule(topic, partition, key)
        raise ArgumentError, 'a schedule key is required' if key.to_s.empty?

        Karafka.producer.produce_sync(topic: topic, partition: partition, key: key, payload: nil)
      end

      def record(topic, partition, offset, action, target)
        Karafka.producer.produce_sync(
          topic: Web.topic_names[:dlq_actions], key: dlq_key(topic, partition, offset),
          payload: JSON.generate(action: action, target: target, at: Time.now.to_f)
        )
      end
    end
  end
end
