# frozen_string_literal: true

module Chaos
  # `karafka server` as a child process, booted from bench/chaos/karafka.rb.
  class Server
    BOOT_FILE = File.expand_path('../karafka.rb', __dir__)

    attr_reader :pid, :name, :log_path

    # @param env [Hash] CHAOS_* settings of bench/chaos/karafka.rb
    def initialize(name, log_path:, env:)
      @name = name
      @log_path = log_path
      @env = { 'KARAFKA_BOOT_FILE' => BOOT_FILE }.merge(env)
    end

    def start
      @pid = Process.spawn(@env, RbConfig.ruby, '-I', File.join(ROOT, 'lib'), File.join(ROOT, 'exe/karafka'),
                           'server', chdir: ROOT, out: [@log_path, 'a'], err: %i[child out])
      Chaos.log("server #{@name} started (pid #{@pid})")
      self
    end

    def signal(sig)
      Process.kill(sig, @pid)
    rescue Errno::ESRCH
      nil
    end

    # Sends `sig` and waits for the exit (SIGKILL after `timeout` s).
    # @return [Process::Status, nil]
    def stop(sig = 'TERM', timeout: 60)
      return unless alive?

      signal(sig)
      deadline = Chaos.now + timeout
      loop do
        _, status = Process.wait2(@pid, Process::WNOHANG)
        return status.tap { Chaos.log("server #{@name} (pid #{@pid}) exited after #{sig}: #{status.exitstatus || status.termsig}") } if status

        if Chaos.now > deadline
          Chaos.log("server #{@name} (pid #{@pid}) did not exit #{timeout}s after #{sig}: SIGKILL")
          return stop('KILL', timeout: 10)
        end
        sleep 0.05
      end
    end

    def alive?
      return false unless @pid

      Process.wait2(@pid, Process::WNOHANG).nil?
    rescue Errno::ECHILD
      false
    end
  end
end
