# frozen_string_literal: true

module Karafka
  module Instrumentation
    # Writes librdkafka's own log lines (a broker it cannot reach, `debug` contexts, ...) to
    # Karafka.logger, as Karafka's rdkafka-ruby does. librdkafka logs on its own threads, which
    # must not call Ruby, so the native clients keep the lines (ext core::librdkafka_log) and a
    # thread started with a process' first producer or engine writes them; a forked child
    # starts its own, and what is still kept at exit is written then.
    module LibrdkafkaLog
      # librdkafka's syslog levels (0 emergency .. 7 debug) as Logger severities.
      SEVERITIES = [::Logger::FATAL, ::Logger::FATAL, ::Logger::FATAL, ::Logger::ERROR, ::Logger::WARN,
                    ::Logger::INFO, ::Logger::INFO, ::Logger::DEBUG].freeze
      # How long one take waits for a line (ms); the thread loops.
      WAIT_MS = 1_000
      MUTEX = Mutex.new

      class << self
        # Starts the writing thread in this process unless it runs.
        def ensure_running
          return if running?

          MUTEX.synchronize do
            next if running?

            @pid = ::Process.pid
            @thread = Thread.new { run }
            @thread.name = 'karafka.librdkafka_log'
          end
        end

        # From the last `at_exit` handler: the lines still kept, in a process that made a
        # client (lib/karafka.rb).
        def drain_at_exit
          write(*Native::LibrdkafkaLog._take(0)) if @pid == ::Process.pid
        end

        private

        def running?
          @pid == ::Process.pid && @thread&.alive?
        end

        def run
          loop { write(*Native::LibrdkafkaLog._take(WAIT_MS)) }
        rescue StandardError => e
          Karafka.logger.error("librdkafka's log lines are no longer written: #{e.class}: #{e.message}")
        end

        def write(lines, dropped)
          logger = Karafka.logger
          lines.each do |level, facility, message|
            logger.add(SEVERITIES.fetch(level, ::Logger::INFO)) { "rdkafka: [#{facility}] #{message}" }
          end
          logger.warn("rdkafka: #{dropped} log line(s) were not kept (more than the bound at once)") if dropped.positive?
        end
      end
    end
  end
end
