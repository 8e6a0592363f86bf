# frozen_string_literal: true

module Karafka
  class Producer
    # The process' last flush (`at_exit`): waits up to {timeout_ms} for async messages still in
    # librdkafka's queue, reports those it gave up on (see {Undelivered}), and turns an exit
    # that was going to succeed into a failing one when any were lost.
    module ExitFlush
      # Exit status of a process that would have exited 0 but lost async messages.
      EXIT_STATUS = 1
      # Default bound of the flush at exit.
      DEFAULT_TIMEOUT_MS = 10_000

      class << self
        # @return [Integer] ms the flush at exit may take
        #   (`KARAFKA_EXIT_FLUSH_TIMEOUT_MS` overrides the 10 s default)
        attr_writer :timeout_ms

        def timeout_ms
          @timeout_ms || Integer(ENV.fetch('KARAFKA_EXIT_FLUSH_TIMEOUT_MS', DEFAULT_TIMEOUT_MS))
        end

        # Closes this process' producer; from an `at_exit` handler only.
        def run
          producer = Karafka.producer
          producer.close(timeout_ms)
          return if producer.undelivered_count.zero? || !exiting_successfully?

          exit(EXIT_STATUS)
        end

        private

        # `$!` is the exception the process is exiting with: none, or a SystemExit with
        # status 0, means it was about to report success.
        def exiting_successfully?
          $!.nil? || ($!.is_a?(SystemExit) && $!.success?)
        end
      end
    end
  end
end
