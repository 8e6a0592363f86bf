# frozen_string_literal: true

module Karafka
  class Admin
    # Karafka's Admin Configs API: `describe` topic and broker settings, `alter` topic ones.
    #
    #   resource = Karafka::Admin::Configs::Resource.new(type: :topic, name: 'orders')
    #   resource.set('retention.ms', '7200000')
    #   Karafka::Admin::Configs.alter(resource)
    #
    # librdkafka's AlterConfigs (what the Rust client offers) replaces a resource's whole set,
    # so a topic's current settings are read and sent along with the changes. Altering broker
    # settings that way could reset the others, so it is refused.
    module Configs
      # One setting as the broker reports it.
      Config = Struct.new(:name, :value, :default, :read_only, :sensitive, keyword_init: true) do
        # @return [Boolean] the broker's default (not set on the resource)
        def default?
          default
        end

        # @return [Boolean]
        def read_only?
          read_only
        end

        # @return [Boolean] the value is not shown
        def sensitive?
          sensitive
        end

        # @return [Boolean] always false: librdkafka's DescribeConfigs here lists no synonyms
        def synonym?
          false
        end
      end

      # A topic (`type: :topic`, `name:` its name) or a broker (`type: :broker`, `name:` its id),
      # with the settings {Configs.describe} found and the changes {Configs.alter} applies.
      class Resource
        TYPES = %i[topic broker].freeze

        # @return [Symbol] :topic or :broker
        attr_reader :type
        # @return [String]
        attr_reader :name
        # @return [Array<Config>] filled by {Configs.describe}
        attr_reader :configs
        # @return [Array<Array(Symbol, String, String)>] `[operation, setting, value]`
        attr_reader :operations

        # @param type [Symbol] :topic or :broker
        # @param name [String, Integer]
        def initialize(type:, name:)
          raise ArgumentError, "resource type must be one of #{TYPES.inspect}, got #{type.inspect}" unless TYPES.include?(type)

          @type = type
          @name = name.to_s
          @configs = []
          @operations = []
        end

        # @param setting [String] @param value [String]
        def set(setting, value)
          @operations << [:set, setting.to_s, value.to_s]
          self
        end

        # Removes the resource's own value (back to the broker's default).
        # @param setting [String]
        def delete(setting)
          @operations << [:delete, setting.to_s, nil]
          self
        end

        # Adds `value` to a list setting (e.g. `cleanup.policy`).
        def append(setting, value)
          @operations << [:append, setting.to_s, value.to_s]
          self
        end

        # Removes `value` from a list setting.
        def subtract(setting, value)
          @operations << [:subtract, setting.to_s, value.to_s]
          self
        end
      end

      class << self
        # @param resources [Array<Resource>] (or several arguments)
        # @return [Array<Resource>] copies with {Resource#configs} filled
        def describe(*resources)
          resources.flatten.map do |resource|
            described = Resource.new(type: resource.type, name: resource.name)
            rows = Native::Admin._describe_config(kafka, resource.name, resource.type == :broker)
            rows.each do |entry|
              described.configs << Config.new(name: entry.name, value: entry.value, default: entry.default,
                                              read_only: entry.read_only, sensitive: entry.sensitive)
            end
            described
          end
        end

        # Applies each resource's operations (topics only).
        # @param resources [Array<Resource>]
        # @return [true]
        def alter(*resources)
          resources.flatten.each do |resource|
            if resource.type == :broker
              raise Errors::UnsupportedFeatureError,
                    'Karafka::Admin::Configs.alter of broker settings is not supported by karafka-rs (its ' \
                    'AlterConfigs would reset the settings not named); use kafka-configs.sh --alter'
            end

            alter_topic(resource)
          end
          true
        end

        # Sets `changes` on a topic and removes `deletes`, keeping its other settings, then
        # waits until the topic's settings show them (see {#until_applied}).
        # @api private (also `karafka topics align`, through Admin#alter_topic_config)
        # @param kafka [Array<Array(String, String)>] librdkafka settings
        # @param topic [String]
        # @param changes [Hash{String => String}]
        # @param deletes [Array<String>]
        def alter_topic_config(kafka, topic, changes, deletes)
          Native::Admin._alter_topic_config(kafka, topic, changes.to_a, deletes)
          until_applied(kafka, topic, changes, deletes)
        end

        private

        def alter_topic(resource)
          current = describe(resource).first.configs.to_h { |config| [config.name, config.value] }
          changes = {}
          deletes = []
          resource.operations.each do |operation, setting, value|
            list = (changes[setting] || current[setting]).to_s.split(',').reject(&:empty?)
            case operation
            when :set then changes[setting] = value
            when :delete then deletes << setting
            when :append then changes[setting] = (list | [value]).join(',')
            when :subtract then changes[setting] = (list - [value]).join(',')
            end
          end
          alter_topic_config(kafka, resource.name, changes, deletes)
        end

        # How long {#until_applied} reads a topic's settings back, at most (seconds).
        APPLY_WAIT = 5
        APPLY_STEP = 0.1

        # The broker can reject an AlterConfigs request (an invalid value: `retention.ms` of
        # -100) and rdkafka, the Rust client, reports success without reading the broker's
        # per-topic error. So the settings are read back until they show the changes, as a
        # rejected change never will, and a change not shown within {APPLY_WAIT} raises.
        def until_applied(kafka, topic, changes, deletes)
          pending = nil
          seconds = [APPLY_WAIT, App.config.admin.max_wait_time / 1000.0].min
          return if Polling.until_true(seconds, APPLY_STEP) { (pending = unapplied(kafka, topic, changes, deletes)).empty? }

          raise Errors::AdminError, "the broker did not apply #{pending.join(', ')} to topic #{topic} " \
                                    '(it rejected the change: check the values and the topic settings they name)'
        end

        # The changes the topic's settings do not show yet, each as `name = "value" (reads "now")`.
        def unapplied(kafka, topic, changes, deletes)
          now = Native::Admin._describe_config(kafka, topic, false).to_h { |entry| [entry.name, entry] }
          changed = changes.reject do |name, value|
            (entry = now[name]) && (entry.sensitive || entry.value == value.to_s)
          end.map { |name, value| "#{name} = #{value.to_s.inspect} (reads #{now[name]&.value.inspect})" }
          changed + deletes.select { |name| now[name]&.topic_override }.map { |name| "the removal of #{name}" }
        end

        def kafka
          App.config.kafka_pairs
        end
      end
    end
  end
end
