# frozen_string_literal: true

# Synchronisation by condition, never by a fixed sleep: poll until true or the deadline passes.
module SpecWaiting
  # @param timeout [Numeric] seconds
  # @param message [String, Proc] what we were waiting for (a Proc is called only on timeout,
  #   so it can show state as of the failure, e.g. the server's log)
  # @return the block's truthy value
  def wait_until(timeout: 30, message: 'condition')
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    loop do
      result = yield
      return result if result

      if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
        stacks = defined?(ServerProcess) ? ServerProcess.dump_stacks : ''
        raise "timed out after #{timeout}s waiting for #{message.respond_to?(:call) ? message.call : message}" \
              "#{"\n#{stacks}" unless stacks.empty?}"
      end

      sleep 0.02 # polling interval, not a synchronisation point
    end
  end
end
