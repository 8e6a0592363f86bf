# frozen_string_literal: true

require 'json'

module Karafka
  module Swarm
    # The two pipes between the supervisor and one node, made before the fork.
    #
    # - reports (node -> supervisor): one JSON line per report (`{"status":"alive"}` every
    #   `liveness_interval`, `running` once the server runs, `error` with the exception that
    #   stops it). The node holds the only write end, so its death is an end-of-file here.
    # - lifeline (supervisor -> node): nothing is ever written; the supervisor holds the only
    #   write end, so the node sees end-of-file the moment its supervisor is gone, even after a
    #   SIGKILL, and stops instead of running on as an orphan.
    class Pipes
      # @return [IO] supervisor side: reads the node's reports
      attr_reader :reports
      # @return [IO] node side: writes reports
      attr_reader :report_writer
      # @return [IO] node side: readable (end-of-file) once the supervisor is gone
      attr_reader :lifeline

      def initialize
        @reports, @report_writer = IO.pipe
        @lifeline, @lifeline_writer = IO.pipe
        @buffer = +''
        @eof = false
      end

      # @return [Boolean] the report pipe may still deliver something (supervisor side)
      def readable?
        !@eof && !@reports.closed?
      end

      # @return [Array<IO>] the ends the supervisor keeps (every node closes these after a fork)
      def supervisor_ends
        [@reports, @lifeline_writer]
      end

      # Supervisor, after the fork: the node's ends belong to the node alone.
      def close_node_ends
        [@report_writer, @lifeline].each(&:close)
      end

      # Node, after the fork: drop the supervisor's ends.
      def close_supervisor_ends
        supervisor_ends.each { |io| io.close unless io.closed? }
      end

      # Supervisor: everything the node sent since the last call.
      # @return [Array<Hash>, nil] reports, or nil at end-of-file (the node is gone)
      def read_reports
        chunk = @reports.read_nonblock(65_536, exception: false)
        if chunk.nil?
          @eof = true
          return nil
        end
        return [] if chunk == :wait_readable

        @buffer << chunk
        lines = @buffer.split("\n", -1)
        @buffer = lines.pop
        lines.filter_map { |line| parse(line) }
      end

      # Node: sends one report. Never blocks: a supervisor that stopped reading must not stop
      # the node (the report is dropped; the supervisor will notice the silence).
      # @param report [Hash]
      # @return [Boolean] false when the supervisor is gone
      def write_report(report)
        @report_writer.write_nonblock("#{JSON.generate(report)}\n", exception: false)
        true
      rescue Errno::EPIPE, IOError
        false
      end

      # Supervisor, when the node is gone for good.
      def close
        supervisor_ends.each { |io| io.close unless io.closed? }
      end

      private

      def parse(line)
        JSON.parse(line)
      rescue JSON::ParserError
        nil
      end
    end
  end
end
