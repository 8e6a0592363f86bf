# frozen_string_literal: true

# Boot file of the Sidekiq process in bench/sidekiq.rb: the same job, Active Job's :sidekiq
# adapter, Redis from REDIS_URL.
require 'active_job'
require 'sidekiq'
$LOAD_PATH.unshift(File.expand_path('../lib', __dir__))
require 'karafka' # BenchJob declares karafka_options; harmless here
require_relative 'bench_job'

ActiveJob::Base.queue_adapter = :sidekiq
Sidekiq.configure_server { |config| config.redis = { url: ENV.fetch('REDIS_URL') } }
Sidekiq.logger.level = Logger::WARN
