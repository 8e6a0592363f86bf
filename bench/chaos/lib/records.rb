# frozen_string_literal: true

module Chaos
  # The runs the jobs appended to a scenario's runs file (see jobs.rb), read incrementally:
  # each refresh parses only the complete lines added since the last one.
  class Records
    attr_reader :runs, :torn

    def initialize(path)
      @path = path
      @offset = 0
      @runs = []
      @counts = Hash.new(0)
      @torn = 0
    end

    # @return [self]
    def refresh
      return self unless File.exist?(@path)

      data = File.open(@path, 'rb') do |file|
        file.seek(@offset)
        file.read
      end
      last = data.rindex("\n")
      return self unless last

      chunk = data[0..last]
      @offset += chunk.bytesize
      chunk.each_line { |line| add(line) }
      self
    end

    # @return [Integer] distinct jobs run so far
    def distinct = refresh.counts.size

    # @return [Hash{String => Integer}] runs per job id
    attr_reader :counts

    private

    def add(line)
      run = JSON.parse(line)
      @runs << run
      @counts[run['id']] += 1
    rescue JSON::ParserError
      @torn += 1 # a line cut by a kill -9 mid-write: never seen so far, counted if it happens
    end
  end
end
