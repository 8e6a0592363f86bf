# frozen_string_literal: true

require_relative '../configurable'
require_relative 'client'

module Karafka
  module Instrumentation
    module Vendors
      module Appsignal
        # Shared by the listeners: Karafka's configuration API without karafka-core
        # ({Vendors::Configurable}); each listener declares its `Settings`.
        class Base
          include Configurable

          # @return [Object] the AppSignal client (`config.client`)
          def client
            config.client
          end
        end
      end
    end
  end
end
