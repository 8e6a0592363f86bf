# frozen_string_literal: true

# A `karafka` command in a Rails app in development whose logger writes to a file: Karafka's
# lines go to that log and, once, to stdout (as `rails server` prints there too).
require 'stringio'
require 'tempfile'

ENV['KARAFKA_CLI'] = 'true' # as in a `karafka server` process
captured = StringIO.new
$stdout = captured
RAILS_LOG = StringIO.new

require 'rails'
require 'active_job/railtie'
require_relative '../helper'

class ExampleApp < Rails::Application
  config.eager_load = false
  config.logger = ActiveSupport::Logger.new(RAILS_LOG)
end

boot_file = "#{Tempfile.new.path}.rb"
FileUtils.touch(boot_file)
ENV['KARAFKA_BOOT_FILE'] = boot_file
ExampleApp.initialize!

setup_karafka
setup_active_job
draw_routes { active_job_topic DT.topic }

class LoggedJob < ActiveJob::Base
  queue_as DT.topic

  def perform(value)
    DT[0] << value
  end
end

LoggedJob.perform_later(1)
start_karafka_and_wait_until { DT[0].size >= 1 }
$stdout = STDOUT

assert_equal [1], DT[0]
assert_equal 1, RAILS_LOG.string.scan('Running Karafka').size, RAILS_LOG.string
assert_equal 1, captured.string.scan('Running Karafka').size, captured.string
