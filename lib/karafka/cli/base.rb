# frozen_string_literal: true

module Karafka
  class Cli
    # What every command shares: loading the app (Rails first, when this is a Rails app).
    class Base
      # @param boot [Boolean] false when the app is set up in this process already
      #   (Karafka::Cli.start): {#boot} then loads nothing
      def initialize(boot: true)
        @boot = boot
      end

      private

      # Loads the Rails environment when this is a Rails app (the railtie then requires the
      # boot file), then the boot file itself - as Karafka's CLI does. With
      # `KARAFKA_BOOT_FILE=false` a Rails app is expected to set Karafka up while it boots (an
      # initializer): its environment is all that is loaded.
      def boot
        return true unless @boot

        rails_environment = File.join(Dir.pwd, 'config', 'environment.rb')
        rails_app = Karafka.rails? && File.exist?(rails_environment)
        boot_file = Karafka.boot_file
        if boot_file.to_s == 'false' && rails_app
          require rails_environment
          return true
        end
        raise Errors::MissingBootFileError, "no boot file at #{boot_file}" unless File.exist?(boot_file)

        require rails_environment if rails_app
        require boot_file.to_s
        true
      end
    end
  end
end
