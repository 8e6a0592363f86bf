# frozen_string_literal: true

require 'rbconfig'
require 'tmpdir'

# `karafka server` as a child process, booted from spec/fixtures/karafka.rb, for scenarios
# that need the real server (signals, crashes, restarts).
class ServerProcess
  ROOT = File.expand_path('../..', __dir__)

  attr_reader :log_path, :pid

  # @param topics [Array<String>]
  # @param group [String]
  # @param output [String] file the fixture jobs append their records to
  # @param concurrency [Integer]
  def initialize(topics:, group:, output:, concurrency: 5, env: {})
    @log_path = File.join(Dir.tmpdir, "karafka-rs-server-#{SecureRandom.hex(4)}.log")
    @env = {
      'KARAFKA_BOOT_FILE' => File.join(ROOT, 'spec/fixtures/karafka.rb'),
      'KAFKA_BOOTSTRAP' => SpecKafka.bootstrap,
      'SPEC_TOPICS' => topics.join(','),
      'SPEC_GROUP' => group,
      'SPEC_OUTPUT' => output,
      'SPEC_CONCURRENCY' => concurrency.to_s
    }.merge(env)
  end

  # Servers started and not yet reaped, for {.dump_stacks}.
  @live = {}
  class << self
    attr_reader :live

    # Every live server's native thread stacks (gdb), written to a file each: what a spec
    # that timed out waiting for a server shows, so that a stall can be told from slowness.
    # @return [String] one line per server: pid and the file, or why there is none
    def dump_stacks
      live.values.map { |server| "server #{server.pid}: #{server.dump_stack}" }.join("\n")
    end
  end

  # @return [String] the file holding this server's thread stacks, or why there is none
  def dump_stack
    gdb = ENV['PATH'].split(':').map { |dir| File.join(dir, 'gdb') }.find { |path| File.executable?(path) }
    return 'no gdb to dump its stacks' unless gdb

    path = "#{@log_path}.stacks"
    out = IO.popen([gdb, '-batch', '-p', @pid.to_s, '-ex', 'thread apply all bt'], err: %i[child out], &:read)
    File.write(path, out)
    "stacks in #{path}"
  rescue SystemCallError => e
    "stacks not dumped: #{e.message}"
  end

  def start
    launch('server')
  end

  # Spawns `karafka *command` (subclasses: other commands, other arguments), logged to {#log_path}.
  # @return [self]
  def launch(*command)
    @pid = Process.spawn(@env, RbConfig.ruby, '-I', File.join(ROOT, 'lib'), File.join(ROOT, 'exe/karafka'),
                         *command, chdir: ROOT, out: @log_path, err: @log_path)
    ServerProcess.live[@pid] = self
    self
  end

  # Sends `signal` and waits (bounded) for the exit.
  # @return [Process::Status]
  def stop(signal = 'TERM', timeout: 60)
    Process.kill(signal, @pid)
    wait(timeout)
  end

  # @return [Process::Status]
  def wait(timeout)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    loop do
      status = reap(Process::WNOHANG)
      return status if status

      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
        stacks = dump_stack
        Process.kill('KILL', @pid)
        reap
        raise "server did not exit within #{timeout}s (#{stacks}); log:\n#{log}"
      end
      sleep 0.05 # polling interval for the child's exit
    end
  end

  def alive?
    reap(Process::WNOHANG).nil?
  rescue Errno::ECHILD
    ServerProcess.live.delete(@pid)
    false
  end

  def log
    File.exist?(@log_path) ? File.read(@log_path) : ''
  end

  # Waits for the child (flags: Process::WNOHANG to only look); once it is reaped it is no
  # longer live, so {.dump_stacks} never attaches to a pid that may belong to another process.
  # @return [Process::Status, nil]
  def reap(flags = 0)
    _, status = Process.wait2(@pid, flags)
    ServerProcess.live.delete(@pid) if status
    status
  end

  # Stops the child if an example left it running.
  def ensure_stopped
    stop('KILL', timeout: 10) if @pid && alive?
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end
end
