# frozen_string_literal: true

require 'karafka/testing'

module Karafka
  module Testing
    # karafka-testing's RSpec integration.
    module RSpec
      # `RSpec.configure { |config| config.include Karafka::Testing::RSpec::Helpers }` gives
      # every example `karafka` ({Karafka::Testing::Proxy}); inside examples `Karafka.producer`
      # buffers, and the buffer is new for every example.
      module Helpers
        # @param base [Class] the example group
        def self.included(base)
          base.let(:karafka) { Karafka::Testing::Proxy.new(@_karafka_example, self) }
          base.prepend_before { @_karafka_example = Karafka::Testing.start_example }
          base.append_after { Karafka::Testing.finish_example }
        end
      end
    end
  end
end
