# frozen_string_literal: true

module Karafka
  module ActiveJob
    # Turns jobs into message payloads and back, as Karafka's `Karafka::ActiveJob::Deserializer`
    # does. Subclass it and set `config.internal.active_job.deserializer = MyDeserializer.new`
    # for custom envelopes (schema ids, another format); the custom one is used by
    # `perform_later` and by the server.
    #
    # The default writes `JSON.generate(job.serialize)` (with the persisted current
    # attributes), exactly what karafka-rs and Karafka write, and reads it with `JSON.parse`
    # (no Marshal, no YAML, no JSON additions). karafka-rs recognises this default and runs
    # its faster built-in path instead of calling these methods per job.
    #
    # @example An envelope
    #   class EnvelopedJobDeserializer < Karafka::ActiveJob::Deserializer
    #     def serialize(job)
    #       JSON.generate(version: 1, payload: job.serialize)
    #     end
    #
    #     def deserialize(message)
    #       JSON.parse(message.raw_payload).fetch('payload')
    #     end
    #   end
    class Deserializer
      PARSE_OPTIONS = { create_additions: false }.freeze
      private_constant :PARSE_OPTIONS

      # @param job [ActiveJob::Base] `job.serialize` includes the persisted current attributes
      # @return [String] the message payload
      def serialize(job)
        ::JSON.generate(job.serialize)
      end

      # @param message [Karafka::ActiveJob::Consumer::Message] `raw_payload` is the payload
      # @return [Hash] the job hash, as `ActiveJob::Base.execute` takes it
      def deserialize(message)
        ::JSON.parse(message.raw_payload, PARSE_OPTIONS)
      end

      # Karafka-rs writes the persisted current attributes into `job.serialize` while a custom
      # deserializer serializes (Karafka prepends the same to every job class).
      # @api private
      module WithCurrentAttributes
        # @return [Hash]
        def serialize
          CurrentAttributes.dump(super)
        end
      end
    end
  end
end
