# frozen_string_literal: true

require 'io/wait'
require 'socket'

module Karafka
  module Instrumentation
    module Vendors
      # The tiny HTTP/1.1 server behind the probe and metrics listeners: one Ruby thread
      # accepting on a TCPServer, one short response per connection (`Connection: close`), no
      # extra gem. It answers any path through the given block; a client that does not send its
      # request line within {READ_TIMEOUT} is dropped so it cannot hold the probe thread.
      class HttpServer
        # Seconds a client gets to send its request head.
        READ_TIMEOUT = 2
        # Lines of request head read at most (request line and headers).
        MAX_HEAD_LINES = 100
        REASONS = { 200 => 'OK', 204 => 'No Content', 404 => 'Not Found', 500 => 'Internal Server Error',
                    503 => 'Service Unavailable' }.freeze

        # @param hostname [String, nil] nil binds on every interface
        # @param port [Integer]
        # @yieldparam path [String] the request's path (without the query)
        # @yieldreturn [Array(Integer, String, String)] status, content type, body
        def initialize(hostname, port, &handler)
          @hostname = hostname
          @port = port
          @handler = handler
        end

        # Binds (raising Errno::EADDRINUSE at once when the port is taken) and serves.
        # @return [self]
        def start
          @server = TCPServer.new(*[@hostname, @port].compact)
          @thread = Thread.new do
            Thread.current.name = "karafka.http:#{@port}"
            serve
          end
          self
        end

        # Stops accepting and waits (briefly) for the serving thread.
        def stop
          return unless @server

          @server.close unless @server.closed?
          @thread&.join(READ_TIMEOUT + 1)
        end

        private

        def serve
          loop do
            client = @server.accept
            begin
              respond(client)
            rescue IOError, SystemCallError # Errno::ECONNRESET, Errno::EPIPE, ...
              nil # the client went away; keep serving the next one
            ensure
              client.close
            end
          end
        rescue IOError, Errno::EBADF
          nil # closed by #stop
        end

        def respond(client)
          head = read_head(client) or return
          path = head.split(' ', 3)[1].to_s.split('?', 2).first
          status, type, body = @handler.call(path)
          client.write("HTTP/1.1 #{status} #{REASONS.fetch(status, 'Unknown')}\r\nContent-Type: #{type}\r\n" \
                       "Content-Length: #{body.bytesize}\r\nConnection: close\r\n\r\n#{body}")
        end

        # @return [String, nil] the request line, after reading the headers up to the blank line
        def read_head(client)
          request_line = nil
          MAX_HEAD_LINES.times do
            return nil unless client.wait_readable(READ_TIMEOUT)

            line = client.gets or return request_line
            return request_line if line.strip.empty?

            request_line ||= line
          end
          request_line
        end
      end
    end
  end
end
