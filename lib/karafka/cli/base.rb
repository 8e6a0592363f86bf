# frozen_string_literal: true

module Karafka
  class Cli
    # What every command shares: loading the app (Rails first, when this is a Rails app).
    class Base
      private

      # Loads the Rails environment when this is a Rails app (the railtie then requires the
      # boot file), then the boot file itself - as Karafka's CLI does.
      def boot
        boot_file = Karafka.boot_file
        raise Errors::MissingBootFileError, "no boot file at #{boot_file}" unless File.exist?(boot_file)

        rails_environment = File.join(Dir.pwd, 'config', 'environment.rb')
        if File.exist?(rails_environment)
          require 'rails'
          # `karafka` was required before Rails was, so its railtie is not loaded yet.
          require_relative '../railtie'
          require rails_environment
        end
        require boot_file
        true
      end
    end
  end
end
