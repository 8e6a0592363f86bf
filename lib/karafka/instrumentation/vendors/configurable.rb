# frozen_string_literal: true

module Karafka
  module Instrumentation
    module Vendors
      # Karafka configures its vendor listeners (Datadog, AppSignal) with a block
      # (`new do |config| ... end`) through karafka-core's Configurable, which karafka-rs does
      # not ship: here the settings are a Struct filled with their defaults and handed to the
      # block. A misspelt setting raises NoMethodError, as karafka-core's does.
      #
      # A listener declares `Settings = Configurable.settings(name: default, ...)` and includes
      # this module; subclasses (Karafka's docs subclass the Datadog metrics listener) inherit
      # both.
      module Configurable
        # @param defaults [Hash{Symbol => Object}] each setting and its default
        # @return [Class] a Struct of those settings whose `new` starts from the defaults,
        #   copied so that one listener appending to its `default_tags` leaves the others'
        def self.settings(**defaults)
          Struct.new(*defaults.keys) do
            define_method(:initialize) { super(*defaults.values.map(&:dup)) }
          end
        end

        # @return [Struct] this listener's settings
        attr_reader :config

        # @param block [Proc] `{ |config| config.client = ... }`
        def initialize(&block)
          @config = self.class::Settings.new
          setup(&block) if block
        end

        # Changes settings after `new` (Karafka keeps this alias, as `WaterDrop#setup`).
        # @yieldparam config [Struct]
        def setup
          yield(config) if block_given?
          self
        end
      end
    end
  end
end
