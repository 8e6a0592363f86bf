# frozen_string_literal: true

require 'securerandom'

module Karafka
  module Instrumentation
    module Vendors
      # AppSignal listeners with Karafka's class names, settings, metric names and tags.
      module Appsignal
        # The only object that talks to the `appsignal` gem, with Karafka's client interface:
        # the listeners call nothing else, so a spec (or an app) passes any object answering
        # these methods as `config.client`. `::Appsignal` is looked up on first use, never at
        # require time: karafka.rb can build the listeners before (or without) the gem loads.
        # Tags and metadata go to AppSignal as strings, as the gem wants them.
        class Client
          # @param namespace_name [String, nil] the transactions' AppSignal namespace; nil is
          #   `Appsignal::Transaction::BACKGROUND_JOB`, resolved on first use
          def initialize(namespace_name: nil)
            @namespace_name = namespace_name
          end

          # Opens a transaction in the namespace, named after the user code it wraps.
          # @param action_name [String] e.g. `Karafka::ActiveJob::Consumer#consume`
          def start_transaction(action_name)
            new_transaction.set_action_if_nil(action_name)
          end

          # Completes this thread's transaction, if one is open.
          def stop_transaction
            ::Appsignal::Transaction.complete_current! if transaction?
          end

          # @param metadata [Hash] set on this thread's transaction, if one is open
          def metadata=(metadata)
            return unless transaction?

            current = ::Appsignal::Transaction.current
            stringify(metadata).each { |key, value| current.set_metadata(key, value) }
          end

          # @param key [String]
          # @param value [Numeric]
          # @param tags [Hash]
          def count(key, value, tags)
            ::Appsignal.increment_counter(key, value, stringify(tags))
          end

          # @param key [String]
          # @param value [Numeric]
          # @param tags [Hash]
          def gauge(key, value, tags)
            ::Appsignal.set_gauge(key, value, stringify(tags))
          end

          # Reports the error, in this thread's transaction when one is open (so it carries the
          # consumer's action and metadata), else in a new one in the namespace.
          # @param error [Exception]
          def report_error(error)
            # appsignal >= 3.10 has one helper for both cases.
            if ::Appsignal.respond_to?(:report_error)
              ::Appsignal.report_error(error) { |transaction| transaction.set_namespace(namespace_name) }
            elsif transaction?
              ::Appsignal::Transaction.current.set_error(error)
            else
              ::Appsignal.send_error(error) { |transaction| transaction.set_namespace(namespace_name) }
            end
          end

          # Runs `probe` every minute on AppSignal's own probes thread.
          # @param name [Symbol]
          # @param probe [#call]
          def register_probe(name, probe)
            if defined?(::Appsignal::Probes) && ::Appsignal::Probes.respond_to?(:register)
              ::Appsignal::Probes.register(name, probe)
            else
              ::Appsignal::Minutely.probes.register(name, probe) # appsignal < 3.4
            end
          end

          private

          # appsignal 4 takes the namespace alone; 3.x an id, the namespace and a request.
          def new_transaction
            if Gem::Version.new(::Appsignal::VERSION) >= Gem::Version.new('4.0.0')
              ::Appsignal::Transaction.create(namespace_name)
            else
              ::Appsignal::Transaction.create(SecureRandom.uuid, namespace_name,
                                              ::Appsignal::Transaction::GenericRequest.new({}))
            end
          end

          def transaction?
            ::Appsignal::Transaction.current?
          end

          def namespace_name
            @namespace_name ||= ::Appsignal::Transaction::BACKGROUND_JOB
          end

          def stringify(hash)
            hash.to_h { |key, value| [key.to_s, value.to_s] }
          end
        end
      end
    end
  end
end
