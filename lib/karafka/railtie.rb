# frozen_string_literal: true

module Karafka
  # In a Rails process (web, console, runner, `karafka server`), requires the boot file
  # (karafka.rb) once the app is prepared, so the producer knows the cluster - as Karafka does.
  class Railtie < ::Rails::Railtie
    initializer 'karafka.require_boot_file' do |app|
      boot_file = Karafka.boot_file
      next if boot_file.to_s == 'false'
      raise Errors::MissingBootFileError, "no boot file at #{boot_file}" unless File.exist?(boot_file)

      app.reloader.to_prepare { require boot_file }
    end
  end
end
