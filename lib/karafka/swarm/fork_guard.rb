# frozen_string_literal: true

module Karafka
  module Swarm
    # Raised when native Kafka state would cross a fork.
    class UnsafeForkError < Errors::BaseError; end

    # Makes sure nothing native crosses a fork (ext/README.md, "Fork").
    #
    # librdkafka is not fork-safe: a child inherits a client's memory but none of its threads,
    # so using (or even destroying) an inherited handle hangs or corrupts the child. The
    # supervisor never creates a consumer engine; a producer that karafka.rb used at boot
    # (an enqueue, a `Karafka.producer` call) is flushed and closed here, before every fork,
    # so a node inherits only closed Ruby objects (their native part is gone) and builds its
    # own producer on first use (`Karafka.producer` compares pids). What cannot be closed from
    # here is an error: an open engine, or librdkafka threads still running (a Kafka client
    # created some other way).
    module ForkGuard
      # Thread names (/proc/self/task/*/comm, 15 characters at most) of native Kafka state:
      # librdkafka's own threads, the producer's poll and idle-send threads and the engine's
      # scheduler.
      NATIVE_THREAD = /\A(rdk:|producer pollin|karafka\.(schedul|idle_se))/

      module_function

      # @param logger [Logger]
      # @raise [UnsafeForkError] when native state is left that a fork would copy
      def prepare!(logger)
        open = native_threads
        close_producers
        engines = ObjectSpace.each_object(Native::Engine).count
        if engines.positive?
          raise UnsafeForkError, "#{engines} consumer engine(s) exist in the swarm supervisor; " \
                                 'the supervisor must not run Karafka::Server (nodes run it after the fork)'
        end

        left = native_threads
        unless left.empty?
          raise UnsafeForkError, "librdkafka threads still run in the swarm supervisor (#{left.uniq.join(', ')}): " \
                                 'a Kafka client created at boot is still open. Create Kafka clients in the nodes ' \
                                 "(Karafka.monitor.subscribe('swarm.node.after_fork') { ... }), not in karafka.rb"
        end
        return if open.empty?

        logger.warn('karafka swarm: closed the Kafka producer(s) used in the supervisor at boot before forking ' \
                    '(nodes create their own); do not use Karafka.producer or Karafka::Admin in the supervisor')
      end

      # @return [Array<String>] names of the native Kafka threads of this process
      def native_threads
        Dir.children('/proc/self/task').filter_map do |task|
          name = File.read("/proc/self/task/#{task}/comm").strip
          name if NATIVE_THREAD.match?(name)
        rescue SystemCallError
          nil # the thread ended while we looked
        end
      end

      # Every producer of this process (Karafka.producer, `config.producer`, variants, ones
      # built by hand): a closed one closes again at no cost.
      def close_producers
        ObjectSpace.each_object(Karafka::Producer) { |producer| producer.close(10_000) }
        ObjectSpace.each_object(Native::Producer) { |native| native._close(10_000) }
      end
    end
  end
end
