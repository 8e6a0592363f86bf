# frozen_string_literal: true

require_relative 'boot'

require 'rails'
# Only the frameworks this app uses: no database, no views, no assets.
require 'active_job/railtie'

# Require the gems listed in Gemfile (karafka-rs among them).
Bundler.require(*Rails.groups)

module RailsDemo
  class Application < Rails::Application
    # The defaults of the Rails running it (6.1 on the host lane, 7.2 on the modern lane).
    config.load_defaults "#{Rails::VERSION::MAJOR}.#{Rails::VERSION::MINOR}"

    # Jobs go to Kafka and are run by `bundle exec karafka server`.
    config.active_job.queue_adapter = :karafka
  end
end
