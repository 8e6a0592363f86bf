# frozen_string_literal: true

module Karafka
  # In a Rails process (web, console, runner, `karafka server`), as Karafka's railtie: Karafka
  # logs to the Rails logger, and the boot file (karafka.rb) is required once the app is
  # prepared, so the producer knows the cluster.
  class Railtie < ::Rails::Railtie
    # As Karafka's: Karafka logs to the Rails logger (a `config.logger` in karafka.rb, required
    # later, still wins), and a `karafka` command in development also prints to stdout, unless
    # the Rails logger already does (no line twice).
    initializer 'karafka.configure_rails_logger' do
      next unless ::Rails.logger # an app without one keeps Karafka's own

      Karafka::App.config.logger = ::Rails.logger
      next unless ::Rails.env.development? && ENV.key?('KARAFKA_CLI')
      next if ActiveSupport::Logger.logger_outputs_to?(::Rails.logger, $stdout)

      stdout = ActiveSupport::Logger.new($stdout)
      stdout.level = ::Rails.logger.level
      if ::Rails.logger.respond_to?(:broadcast_to) # Rails 7.1+: a BroadcastLogger
        ::Rails.logger.broadcast_to(stdout)
      else
        ::Rails.logger.extend(ActiveSupport::Logger.broadcast(stdout))
      end
    end

    # `KARAFKA_BOOT_FILE=false`: the app sets Karafka up itself (an initializer), or karafka is
    # only a dependency of a dependency; nothing is required then.
    initializer 'karafka.require_boot_file' do |app|
      next if Karafka.boot_file.to_s == 'false'

      boot_file = ::Rails.root.join(Karafka.boot_file).to_s
      raise Errors::MissingBootFileError, "no boot file at #{boot_file}" unless File.exist?(boot_file)

      app.reloader.to_prepare { require boot_file }
    end
  end
end
