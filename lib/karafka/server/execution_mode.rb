# frozen_string_literal: true

module Karafka
  class Server
    # `Karafka::Server.execution_mode`, as in Karafka 2.4+: how this process runs its consumers.
    # `karafka server` sets `standalone`, `karafka swarm` `supervisor` in the supervisor and
    # `swarm` in each node; code that starts `Karafka::Server.run` itself sets it first (as
    # Karafka's own integration scenarios do). karafka-rs has no embedded mode
    # (`Karafka::Embedded`), so `embedded!` is refused with the reason.
    class ExecutionMode
      MODES = %i[standalone supervisor swarm embedded].freeze

      def initialize
        @mode = :standalone
      end

      MODES.each do |mode|
        define_method(:"#{mode}?") { @mode == mode }
      end

      def standalone!
        @mode = :standalone
      end

      def supervisor!
        @mode = :supervisor
      end

      def swarm!
        @mode = :swarm
      end

      def embedded!
        raise Errors::UnsupportedFeatureError,
              'Karafka::Embedded (consumers inside another process, e.g. Puma) is not part of karafka-rs: ' \
              'run `karafka server` (or `karafka swarm`) as its own process'
      end

      # @return [Symbol]
      def to_sym
        @mode
      end

      # @return [String]
      def to_s
        @mode.to_s
      end

      # Compares with another mode or a Symbol (`execution_mode == :swarm`).
      def ==(other)
        other.is_a?(ExecutionMode) ? to_sym == other.to_sym : @mode == other
      end
    end
  end
end
