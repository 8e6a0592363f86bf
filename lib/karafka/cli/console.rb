# frozen_string_literal: true

module Karafka
  class Cli
    # `karafka console` (alias `c`): IRB with the app loaded, as in Karafka.
    class Console < Base
      USAGE = "Usage: karafka console   (alias: c)\n"

      # @param argv [Array<String>] passed on to IRB
      # @return [Integer]
      def call(argv)
        boot
        require 'irb'
        ARGV.replace(argv)
        IRB.start(Karafka.boot_file.to_s)
        0
      end
    end
  end
end
