# frozen_string_literal: true

module Karafka
  class Cli
    # `karafka web [--port N] [--host ADDRESS]`: serves the dashboard (Karafka::Web::App)
    # standalone with WEBrick, for apps without Rails routes. Binds to 127.0.0.1 unless told
    # otherwise: the dashboard has no login of its own (see README, Dashboard).
    class Web < Base
      USAGE = <<~TEXT
        Usage: karafka web [--port N] [--host ADDRESS]
          --port N          port to listen on (default 3000)
          --host ADDRESS    address to bind (default 127.0.0.1; 0.0.0.0 exposes the dashboard,
                            which has no login of its own: put it behind authentication)
      TEXT

      # @param argv [Array<String>]
      # @return [Integer]
      def call(argv)
        port = 3000
        host = '127.0.0.1'
        parser = OptionParser.new
        parser.on('-p', '--port N', Integer) { |value| port = value }
        parser.on('--host ADDRESS', '-b ADDRESS') { |value| host = value }
        rest = parser.parse(argv)
        raise UsageError, "unexpected argument(s) #{rest.join(' ')}" unless rest.empty?

        $stdout.sync = true
        boot
        serve(host, port)
        0
      end

      private

      def serve(host, port)
        begin
          require 'webrick'
        rescue LoadError
          raise Errors::InvalidConfigurationError,
                "karafka web serves with WEBrick, which this bundle lacks: add gem 'webrick' to the Gemfile " \
                "(or mount Karafka::Web::App in the app's own Rack server)"
        end
        app = Karafka::Web::App
        handler = webrick_handler
        handler.run(app, Host: host, Port: port, AccessLog: [],
                         Logger: WEBrick::Log.new($stderr, WEBrick::Log::WARN)) do |server|
          %w[INT TERM].each { |signal| trap(signal) { server.shutdown } }
          # Only now: the server has bound its socket (announced before, the URL refused
          # connections for as long as the bind took on a loaded machine).
          puts "Karafka dashboard on http://#{host}:#{port}/ (Ctrl-C stops it)"
          $stdout.flush
        end
      end

      # Rack 2 ships the WEBrick handler; Rack 3 moved it to the rackup gem.
      def webrick_handler
        require 'rack/handler/webrick'
        Rack::Handler::WEBrick
      rescue LoadError
        begin
          require 'rackup/handler/webrick'
          Rackup::Handler::WEBrick
        rescue LoadError
          raise Errors::InvalidConfigurationError,
                "karafka web serves with WEBrick: with Rack #{Rack.release} it needs the rackup gem " \
                "(or mount Karafka::Web::App in the app's own Rack server)"
        end
      end
    end
  end
end
