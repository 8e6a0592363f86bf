# frozen_string_literal: true

module Karafka
  module Setup
    # `config.oauth.*`. A token provider listener needs librdkafka's OAUTHBEARER refresh
    # callback to call Ruby, which karafka-rs does not do (the callback runs on a librdkafka
    # thread); setting one is a boot error that names librdkafka's own OIDC support.
    class OauthConfig
      # @return [false, nil, Object]
      attr_accessor :token_provider_listener

      def initialize
        @token_provider_listener = false
      end
    end

    # `config.license.*`: the Pro Active Job features are part of karafka-rs, so the token is
    # accepted and not needed.
    class LicenseConfig
      attr_accessor :token, :entity

      def initialize
        @token = false
        @entity = ''
      end
    end

    # `config.admin.*` (Karafka's defaults), for `Karafka::Admin`.
    class AdminConfig
      attr_accessor :kafka, :group_id, :max_wait_time, :max_retries_duration, :retry_backoff, :poll_timeout

      def initialize
        @kafka = {}
        @group_id = 'karafka_admin'
        @max_wait_time = 60_000
        @max_retries_duration = 60_000
        @retry_backoff = 500
        @poll_timeout = 50
      end
    end

    # `config.internal.active_job.*`: the pluggable job (de)serializer.
    class ActiveJobInternalConfig
      # @return [#serialize, #deserialize] see {Karafka::ActiveJob::Deserializer}
      attr_writer :deserializer

      # @return [#serialize, #deserialize] the default {Karafka::ActiveJob::Deserializer} unless set
      def deserializer
        @deserializer ||= Karafka::ActiveJob::Deserializer.new
      end

      # Karafka's other internal Active Job hooks, read as Karafka's are (the adapter dispatches
      # through this dispatcher; `karafka_options` are checked by this contract). They cannot be
      # replaced: karafka-rs implements what they do partly in Rust.
      # @return [Karafka::ActiveJob::Dispatcher]
      def dispatcher
        @dispatcher ||= active_job_class(:Dispatcher, :dispatcher).new
      end

      # @return [Karafka::ActiveJob::JobOptionsContract]
      def job_options_contract
        @job_options_contract ||= active_job_class(:JobOptionsContract, :job_options_contract).new
      end

      # @return [Class] the consumer view Karafka's listeners read as `event[:caller]`
      def consumer_class
        Karafka::ActiveJob::Consumer
      end

      %i[dispatcher job_options_contract consumer_class].each do |name|
        define_method(:"#{name}=") do |_value|
          raise Errors::UnsupportedFeatureError,
                "config.internal.active_job.#{name} cannot be replaced in karafka-rs; " \
                'customise the payload with config.internal.active_job.deserializer'
        end
      end

      private

      def active_job_class(name, setting)
        return Karafka::ActiveJob.const_get(name) if Karafka::ActiveJob.const_defined?(name)

        raise Errors::UnsupportedFeatureError,
              "config.internal.active_job.#{setting} needs Active Job: require 'active_job' before 'karafka' " \
              "(or require 'active_job/karafka')"
      end
    end

    # `config.internal.connection.*`.
    class ConnectionInternalConfig
      # @return [Integer] ms between two resets of a consumer librdkafka declared dead (a fenced
      #   static member); the first reset is at once. Default 1 s, karafka-rs's reset pause
      #   before the setting was honoured (at 60 s two servers fencing each other in turn left
      #   one unable to shut down within 60 s)
      attr_reader :reset_backoff

      # @return [Karafka::Connection::Manager]
      attr_reader :manager

      def initialize
        @reset_backoff = 1_000
        @manager = Karafka::Connection::Manager.new
      end

      # @param value [Integer] ms
      def reset_backoff=(value)
        unless value.is_a?(Integer) && value >= 1
          raise Errors::InvalidConfigurationError, 'config.internal.connection.reset_backoff must be an Integer of ms >= 1'
        end

        @reset_backoff = value
      end

      # Karafka's connection manager decides how listeners run (Pro: scaling them). karafka-rs
      # runs its listeners itself: a fresh Karafka::Connection::Manager is accepted (Karafka's
      # scenarios re-create it between runs); any other manager is refused, not ignored.
      def manager=(value)
        unless value.instance_of?(Karafka::Connection::Manager)
          raise Errors::UnsupportedFeatureError,
                "config.internal.connection.manager cannot be replaced in karafka-rs (got #{value.class}): " \
                'it runs one listener per consumer group itself'
        end

        @manager = value
      end

      def method_missing(name, *_args)
        raise Errors::UnsupportedFeatureError,
              "config.internal.connection.#{name.to_s.delete_suffix('=')} is a Karafka internal setting that " \
              'karafka-rs does not have (only reset_backoff and manager are)'
      end

      def respond_to_missing?(_name, _include_private = false)
        false
      end
    end

    # `config.internal.status`: Karafka's process status (`Karafka::App.state` here), with
    # `reset!`, which makes the process ready to run `Karafka::Server.run` again.
    class StatusInternalConfig
      # `running?`, `stopped?`, ... for each of App::STATES (app.rb loads after this file).
      def initialize
        App::STATES.each { |name| define_singleton_method(:"#{name}?") { App.state == name } }
      end

      # @return [Symbol]
      def to_sym
        App.state
      end

      def reset!
        App.state = :initializing
      end
    end

    # `config.internal`: Karafka's internal settings. Only `active_job.deserializer`,
    # `swarm.*` (swarm_config.rb), `connection.reset_backoff` / `.manager`, `status` and
    # `forceful_exit_code` exist in karafka-rs; any other one raises an error naming it (not a
    # NoMethodError).
    class InternalConfig
      # @return [ActiveJobInternalConfig]
      attr_reader :active_job

      # @return [ConnectionInternalConfig]
      attr_reader :connection

      # @return [StatusInternalConfig]
      attr_reader :status

      # @return [Integer] `karafka server`'s exit status when jobs were still running after
      #   `shutdown_timeout` (Karafka's, 2)
      attr_accessor :forceful_exit_code

      def initialize
        @active_job = ActiveJobInternalConfig.new
        @connection = ConnectionInternalConfig.new
        @status = StatusInternalConfig.new
        @forceful_exit_code = 2
      end

      def method_missing(name, *_args)
        raise Errors::UnsupportedFeatureError,
              "config.internal.#{name.to_s.delete_suffix('=')} is a Karafka internal setting that karafka-rs " \
              'does not have (only config.internal.active_job.deserializer, swarm.*, connection.reset_backoff, ' \
              'connection.manager, status and forceful_exit_code are supported)'
      end

      def respond_to_missing?(_name, _include_private = false)
        false
      end
    end
  end
end
