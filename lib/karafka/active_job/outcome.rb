# frozen_string_literal: true

module Karafka
  module ActiveJob
    # What running one job came to, as {Executor#call} returns it to the engine: {SUCCESS}
    # (commit; one frozen constant, so the job path allocates nothing for it), or a failure
    # (retry after a back-off, or dead-letter) naming the error. The engine tells them apart by
    # identity with {SUCCESS} first, then reads `kind`, `error_class`, `error_message` and
    # `deadline_exceeded` by name (ext/karafka_rs/src/bridge/engine.rs).
    Outcome = Struct.new(:kind, :error_class, :error_message, :deadline_exceeded) do
      # @param error_class [String] the exception's class name
      # @param error_message [String]
      # @param deadline_exceeded [String, nil] the deadline (seconds) of a job that failed after
      #   running past it with `on_overdue: :dead_letter`: dead-lettered at once, no retries
      # @return [Outcome] a frozen failure
      def self.failure(error_class, error_message, deadline_exceeded: nil)
        new(:failure, error_class, error_message, deadline_exceeded).freeze
      end

      # @return [Boolean]
      def success?
        kind == :success
      end

      # @return [Boolean]
      def failure?
        kind == :failure
      end
    end

    # The one successful outcome.
    Outcome::SUCCESS = Outcome.new(:success, nil, nil, nil).freeze
  end
end
