# frozen_string_literal: true

module Karafka
  module ActiveJob
    # What running one job came to, as {Executor#call} returns it to the engine: {SUCCESS}
    # (commit; one frozen constant, so the job path allocates nothing for it), or a failure
    # (retry after a back-off, or dead-letter) naming the error. The engine tells them apart by
    # identity with {SUCCESS} first, then reads `kind`, `error_class` and `error_message` by
    # name (ext/karafka_rs/src/bridge/engine.rs).
    Outcome = Struct.new(:kind, :error_class, :error_message) do
      # @param error_class [String] the exception's class name
      # @param error_message [String]
      # @return [Outcome] a frozen failure
      def self.failure(error_class, error_message)
        new(:failure, error_class, error_message).freeze
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
    Outcome::SUCCESS = Outcome.new(:success, nil, nil).freeze
  end
end
