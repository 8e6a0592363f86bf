# frozen_string_literal: true

# Boot file of the Sidekiq process in bench/sidekiq*.rb: the same jobs as the karafka-rs
# servers (BenchJob, LateJob, IoJob), Active Job's :sidekiq adapter, Redis from REDIS_URL
# (set by the parent: bench/redis's throw-away instance).
require 'active_job'
require 'sidekiq'
$LOAD_PATH.unshift(File.expand_path('../lib', __dir__))
require 'karafka' # the jobs declare karafka_options; harmless here
require_relative 'bench_job'
require_relative 'late_job'
require_relative 'io_bound_karafka' # IoJob only: its Karafka app is skipped in Sidekiq

ActiveJob::Base.queue_adapter = :sidekiq
Sidekiq.configure_server { |config| config.redis = { url: ENV.fetch('REDIS_URL') } }
# Sidekiq logs "start" / "done" per job at INFO; silenced like Active Job's lines in both servers.
Sidekiq.logger.level = Logger::WARN
Redis.silence_deprecations = true # as in bench/support.rb
