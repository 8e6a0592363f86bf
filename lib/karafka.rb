# frozen_string_literal: true

require 'json'
require 'logger'
require 'pathname'

require_relative 'karafka/version'
require_relative 'karafka/errors'
require_relative 'karafka/clock'
require_relative 'karafka/core/taggable'
require_relative 'karafka/native'
require_relative 'karafka/contracts/messages'
require_relative 'karafka/deserializers'
require_relative 'karafka/setup/config'
require_relative 'karafka/setup/contract'
require_relative 'karafka/routing/builder'
require_relative 'karafka/instrumentation/monitor'
require_relative 'karafka/instrumentation/logger'
require_relative 'karafka/instrumentation/librdkafka_log'
require_relative 'karafka/instrumentation/logger_listener'
require_relative 'karafka/instrumentation/statistics'
require_relative 'karafka/instrumentation/metrics'
require_relative 'karafka/instrumentation/assignments_tracker'
require_relative 'karafka/instrumentation/vendors/kubernetes'
require_relative 'karafka/env'
require_relative 'karafka/active_job/path_epoch'
require_relative 'karafka/active_job/deserializer'
require_relative 'karafka/base_consumer'
require_relative 'karafka/active_job/consumer'
# Also without Active Job: `config.active_job.on_overdue` is validated with its values.
require_relative 'karafka/active_job/on_overdue'
require_relative 'karafka/producer'
require_relative 'karafka/admin'
require_relative 'karafka/app'
require_relative 'karafka/instrumentation/proctitle_listener'
require_relative 'karafka/connection/manager'
require_relative 'karafka/setup/attributes_map'
require_relative 'karafka/server'
require_relative 'karafka/server/execution_mode'
require_relative 'karafka/server/engine_settings'
require_relative 'karafka/recurring_tasks'
require_relative 'karafka/cli'
require_relative 'water_drop'

# karafka-rs: Karafka's Active Job stack with a Rust core. `require "karafka"` as with Karafka.
module Karafka
  # The jobs dashboard (`Karafka::Web.enable!`), loaded on first use.
  autoload :Web, File.expand_path('karafka/web', __dir__)

  class << self
    # @return [Logger] `config.logger`, or a STDOUT logger
    def logger
      App.config.logger ||= Logger.new($stdout, level: Logger::INFO)
    end

    # @return [Instrumentation::Monitor] consumer-side events (`config.monitor`, which is the
    #   default monitor unless one was set)
    def monitor
      App.config.monitor
    end

    # @api private
    # @return [Instrumentation::Monitor] the monitor of a process whose config sets none
    def default_monitor
      @default_monitor ||= Instrumentation::Monitor.new
    end

    # The process' producer: `config.producer` when set, else created on first use from
    # `config.kafka`. A forked child gets its own: librdkafka handles must not cross a fork.
    # @return [Producer]
    def producer
      custom = App.config.producer
      return custom if custom

      @producer_mutex.synchronize do
        if @producer.nil? || @producer_pid != ::Process.pid
          @producer = Producer.new(kafka: App.config.kafka)
          @producer_pid = ::Process.pid
        end
        @producer
      end
    end

    # @return [Boolean] whether this process created its producer
    def producer?
      !@producer.nil? && @producer_pid == ::Process.pid
    end

    # Settings changed: the next `producer` call builds a new one.
    def reset_producer!
      old = @producer if producer?
      @producer = nil
      old&.close(5_000)
    end

    # @return [Env] the environment: `KARAFKA_ENV`, `RACK_ENV`, `RAILS_ENV`, else 'development'
    #   (`Karafka.env.production?`)
    def env
      @env ||= Env.new
    end

    # @param environment [String, Symbol]
    def env=(environment)
      env.replace(environment.to_s)
    end

    # @return [Pathname] the application root: `KARAFKA_ROOT_DIR`, else the Gemfile's directory,
    #   else the working directory
    def root
      return @root if @root # set by an app or a spec, as Karafka's `@root` is

      dir = ENV.fetch('KARAFKA_ROOT_DIR', nil)
      dir ||= File.dirname(ENV['BUNDLE_GEMFILE']) if ENV['BUNDLE_GEMFILE']
      Pathname.new(File.expand_path(dir || Dir.pwd))
    end

    # @return [Pathname] where the karafka-rs gem lives
    def gem_root
      Pathname.new(File.expand_path('..', __dir__))
    end

    # Karafka Pro's Active Job features (ordered jobs, scheduled jobs, virtual partitions,
    # long-running jobs, ...) are part of karafka-rs, so apps that enable them under
    # `if Karafka.pro?` keep them.
    # @return [true]
    def pro?
      true
    end

    # @return [Pathname] karafka.rb in {root}, or `KARAFKA_BOOT_FILE` (expanded), or
    #   `Pathname('false')` when that is `false`: the app sets Karafka up elsewhere (a Rails
    #   initializer), or karafka is only a dependency of a dependency. As in Karafka, check it
    #   with `Karafka.boot_file.to_s == 'false'`.
    def boot_file
      file = ENV.fetch('KARAFKA_BOOT_FILE', nil)
      return Pathname.new(file) if file == 'false'

      Pathname.new(File.expand_path(file || root.join('karafka.rb').to_s))
    end

    # Whether this is a Rails process, decided once, as Karafka decides it: Rails is loaded,
    # or it can be required (so the railtie is there even when the Gemfile lists karafka
    # before rails), unless `KARAFKA_REQUIRE_RAILS=false` (Rails in the Gemfile, Karafka run
    # without it).
    # @return [Boolean]
    def rails?
      return @rails if instance_variable_defined?(:@rails)

      @rails = Object.const_defined?('Rails::Railtie')
      return @rails if @rails || ENV['KARAFKA_REQUIRE_RAILS'] == 'false'

      require 'rails'
      @rails = true
    rescue LoadError
      @rails = false
    end
  end

  @producer_mutex = Mutex.new
end

# Deliver what async dispatches left in librdkafka's queue before the process exits (a
# `rails runner` that enqueues and exits must not lose jobs); what cannot be delivered is
# reported and fails the exit status (see Karafka::Producer::ExitFlush). A custom
# `config.producer` that is a Karafka::Producer is `Karafka.producer`, flushed the same way.
# Registered first, so it runs last: librdkafka's lines from the flush and close below too.
at_exit { Karafka::Instrumentation::LibrdkafkaLog.drain_at_exit }

at_exit do
  Karafka::Producer::ExitFlush.run if Karafka.producer? || Karafka::App.config.producer.is_a?(Karafka::Producer)
end

begin
  require 'active_job'
rescue LoadError
  nil
end

if defined?(ActiveJob)
  require_relative 'karafka/active_job/current_attributes'
  require_relative 'karafka/active_job/job_extensions'
  require_relative 'karafka/active_job/schedule'
  require_relative 'karafka/active_job/cancels'
  require_relative 'karafka/active_job/deadlines'
  require_relative 'karafka/active_job/trace'
  require_relative 'karafka/active_job/dispatcher'
  require_relative 'karafka/active_job/executor'
  require_relative 'karafka/active_job/perform_all_later'
  require_relative 'active_job/queue_adapters/karafka_adapter'
  ActiveSupport.on_load(:active_job) do
    extend Karafka::ActiveJob::JobExtensions
    include Karafka::ActiveJob::Cancellable
  end
end

require_relative 'karafka/railtie' if Karafka.rails?
