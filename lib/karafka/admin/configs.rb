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
          Native::Admin._alter_topic_config(kafka, resource.name, changes.to_a, deletes)
        end

        def kafka
          App.config.kafka_pairs
        end
      end
    end
  end
end
