# frozen_string_literal: true

# A Rails app that came from Karafka keeps the consumers `karafka install` wrote
# (app/consumers/application_consumer.rb, `< Karafka::BaseConsumer`). Eager-loaded, as in
# production, they must still load, so the app boots and its jobs run (`karafka server`
# refuses only a route that would run one: spec/integration/cli_spec.rb).
require 'fileutils'
require 'tmpdir'

ENV['KARAFKA_CLI'] = 'true' # as in a `karafka server` process

require 'rails'
require 'active_job/railtie'
require 'action_controller/railtie' # a real app has it; Rails 7.2 eager-loads its health controller
require_relative '../helper'

root = Dir.mktmpdir('karafka-rs-rails-app')
at_exit { FileUtils.rm_rf(root) }
FileUtils.mkdir_p(File.join(root, 'app', 'consumers'))
File.write(File.join(root, 'app', 'consumers', 'application_consumer.rb'), <<~RUBY)
  # frozen_string_literal: true

  # Application consumer from which all Karafka consumers should inherit
  class ApplicationConsumer < Karafka::BaseConsumer
  end
RUBY
File.write(File.join(root, 'app', 'consumers', 'example_consumer.rb'), <<~RUBY)
  # frozen_string_literal: true

  class ExampleConsumer < ApplicationConsumer
    def consume
      messages.each { |message| puts message.payload }
    end
  end
RUBY
FileUtils.touch(File.join(root, 'karafka.rb'))
ENV['KARAFKA_BOOT_FILE'] = File.join(root, 'karafka.rb')

class ExampleApp < Rails::Application
  config.eager_load = true
  config.logger = ActiveSupport::Logger.new(File::NULL)
end
ExampleApp.config.root = root
ExampleApp.initialize!

assert Object.const_defined?(:ExampleConsumer, false), 'app/consumers was eager-loaded'

setup_karafka { |config| config.concurrency = 1 }
setup_active_job

draw_routes { active_job_topic DT.topic }

class EchoJob < ActiveJob::Base
  queue_as DT.topic

  def perform(value)
    DT[0] << value
  end
end

EchoJob.perform_later(1)
EchoJob.perform_later(2)

start_karafka_and_wait_until { DT[0].size >= 2 }

assert_equal [1, 2], DT[0]
