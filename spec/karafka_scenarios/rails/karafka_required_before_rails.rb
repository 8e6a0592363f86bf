# frozen_string_literal: true

# A Gemfile that lists karafka before rails: karafka is required first, and, as Karafka
# does, it requires Rails itself so its railtie is there when the app initializes. The app
# has root-level classes named like Karafka's parts (Builder, Topic, Contract) and sets
# Karafka up in an initializer (`KARAFKA_BOOT_FILE=false`: no karafka.rb is required, and
# none is missing).
#
# @see Karafka's spec/integrations/rails (with_potential_name_collision, requires_rails)

Builder = Class.new
Topic = Class.new
Contract = Class.new

ENV['KARAFKA_CLI'] = 'true' # as in a `karafka server` process
ENV['KARAFKA_BOOT_FILE'] = 'false'

require_relative '../helper' # requires karafka, before anything of Rails

assert Karafka.rails?, 'Karafka.rails?: Rails is there to require'
assert defined?(Karafka::Railtie) == 'constant', 'the railtie is loaded'
assert_equal 'false', Karafka.boot_file.to_s

require 'active_job/railtie'

class ExampleApp < Rails::Application
  config.eager_load = false
  config.logger = ActiveSupport::Logger.new(File::NULL)
end
ExampleApp.initialize!

assert Karafka.logger.equal?(Rails.logger), 'the railtie ran: Karafka logs to the Rails logger'

setup_karafka { |config| config.concurrency = 1 }
setup_active_job
draw_routes { active_job_topic DT.topic }

class EchoJob < ActiveJob::Base
  queue_as DT.topic

  def perform(value)
    DT[0] << value
  end
end

EchoJob.perform_later('a')
start_karafka_and_wait_until { DT[0].size >= 1 }

assert_equal ['a'], DT[0]
