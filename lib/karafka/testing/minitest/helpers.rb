# frozen_string_literal: true

require 'karafka/testing'

module Karafka
  module Testing
    # karafka-testing's Minitest integration.
    module Minitest
      # `include Karafka::Testing::Minitest::Helpers` in a test class (Minitest::Test,
      # Minitest::Spec or ActiveSupport::TestCase) gives each test `@karafka`
      # ({Karafka::Testing::Proxy}), set before `setup` runs; inside tests `Karafka.producer`
      # buffers, and the buffer is new for every test.
      module Helpers
        # Minitest's hook that runs before `setup` (and ActiveSupport's setup callbacks).
        def before_setup
          @karafka = Karafka::Testing::Proxy.new(Karafka::Testing.start_example, self)
          super
        end

        # Minitest's hook that runs after `teardown`.
        def after_teardown
          super
        ensure
          Karafka::Testing.finish_example
        end
      end
    end
  end
end
