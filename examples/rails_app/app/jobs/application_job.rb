# frozen_string_literal: true

class ApplicationJob < ActiveJob::Base
  OUTPUT_LOCK = Mutex.new

  private

  # Appends a line to the demo's output file (ENV['DEMO_OUTPUT'], default tmp/demo_output.log)
  # and logs it. Jobs run on several worker threads at once, hence the lock.
  def record(line)
    path = ENV.fetch('DEMO_OUTPUT', Rails.root.join('tmp', 'demo_output.log').to_s)
    OUTPUT_LOCK.synchronize do
      FileUtils.mkdir_p(File.dirname(path))
      File.open(path, 'a') do |file|
        file.flock(File::LOCK_EX)
        file.write("#{line}\n")
      end
    end
    Rails.logger.info(line)
  end
end
