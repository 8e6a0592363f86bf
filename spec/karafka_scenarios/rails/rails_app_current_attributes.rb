# frozen_string_literal: true

# In a Rails app (its railtie requires the boot file, empty here), jobs carry two persisted
# CurrentAttributes classes, enqueued one by one and, on Rails 7.1+, with perform_all_later;
# Karafka logs through the Rails logger, so with that logger on stdout a `karafka` command
# in development prints "Running Karafka" once, not twice.
require 'stringio'
require 'tempfile'

ENV['KARAFKA_CLI'] = 'true' # as in a `karafka server` process

captured = StringIO.new
$stdout = captured

require 'rails'
require 'active_job/railtie'
require_relative '../helper'
require 'karafka/active_job/current_attributes'

class ExampleApp < Rails::Application
  config.eager_load = false
  config.logger = ActiveSupport::Logger.new($stdout)
end

boot_file = "#{Tempfile.new.path}.rb"
FileUtils.touch(boot_file)
ENV['KARAFKA_BOOT_FILE'] = boot_file
ExampleApp.initialize!

setup_karafka { |config| config.concurrency = 1 }
setup_active_job

class CurrentA < ActiveSupport::CurrentAttributes
  attribute :a
end

class CurrentB < ActiveSupport::CurrentAttributes
  attribute :b
end

Karafka::ActiveJob::CurrentAttributes.persist(CurrentA)
Karafka::ActiveJob::CurrentAttributes.persist(CurrentB)

draw_routes { active_job_topic DT.topic }

class CurrentJob < ActiveJob::Base
  queue_as DT.topic

  def perform
    DT[0] << [CurrentA.a, CurrentB.b]
  end
end

CurrentA.a = 5
CurrentB.b = 10
CurrentJob.perform_later
CurrentA.a = 7
CurrentB.b = 8
CurrentJob.perform_later
expected = [[5, 10], [7, 8]]
if ActiveJob.respond_to?(:perform_all_later)
  CurrentA.a = 1
  CurrentB.b = 2
  ActiveJob.perform_all_later(Array.new(3) { CurrentJob.new })
  expected += [[1, 2]] * 3
end
CurrentA.reset
CurrentB.reset

start_karafka_and_wait_until { DT[0].size >= expected.size }
$stdout = STDOUT

assert_equal expected, DT[0]
assert Karafka.logger.equal?(Rails.logger), 'Karafka logs to the Rails logger'
assert_equal 1, captured.string.scan('Running Karafka').size, captured.string
