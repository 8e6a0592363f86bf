# frozen_string_literal: true

require 'optparse'

module Karafka
  # `karafka COMMAND`: Karafka's CLI commands that make sense for an Active Job app. Every
  # command lives in lib/karafka/cli/; unknown commands and flags print the usage and exit 1.
  class Cli
    # A command line that does not parse (unknown command, flag or argument).
    UsageError = Class.new(StandardError)

    USAGE = <<~TEXT
      Usage: karafka COMMAND [options]
        server (s, consumer)   consume the routed topics and run their jobs
                               (--include-topics a,b, --exclude-consumer-groups c, ...: `karafka help server`)
        swarm                  fork config.swarm.nodes servers under a supervisor (server's filters)
        topics ACTION          declarative topics: migrate, plan, create, delete, reset,
                               repartition, align, list (`karafka help topics`)
        info                   print settings (secrets redacted) and routes
        web [--port N]         serve the jobs dashboard on 127.0.0.1 (`karafka help web`)
        recurring ACTION       recurring tasks: list, enable ID, disable ID, trigger ID
        install                write karafka.rb and an example job into this directory
        console (c)            an IRB session with the app loaded
        version                print the version
        help [COMMAND]         this text, or a command's options
      The boot file is ./karafka.rb, or KARAFKA_BOOT_FILE.
    TEXT

    # @return [Hash{String => Class}] command name or alias => command class
    def self.commands
      { 'server' => Server, 's' => Server, 'consumer' => Server, 'topics' => Topics, 'info' => Info,
        'install' => Install, 'console' => Console, 'c' => Console, 'swarm' => Swarm,
        'web' => Web, 'recurring' => Recurring }
    end

    # Karafka's entry point for a process whose app is already set up (Karafka's exe/karafka
    # loads the boot file before it; scripts and Karafka's scenarios call it after `setup` and
    # `routes.draw`): runs ARGV's command here without loading a boot file, and exits with its
    # status when that is not 0 (`topics ... --detailed-exitcode` exits 2 after a change, as
    # Karafka's does). An unknown command raises Errors::UnrecognizedCommandError, as Karafka's.
    # @param argv [Array<String>]
    # @return [nil]
    def self.start(argv = ARGV)
      command = argv.first
      if command && !command.start_with?('-') && !%w[help version].include?(command) && !commands.key?(command)
        raise Errors::UnrecognizedCommandError, "Unrecognized command \"#{command}\""
      end

      status = new(boot: false).call(argv.dup)
      exit(status) unless status.zero?
    end

    # @param boot [Boolean] whether commands load the app (config/environment.rb, the boot
    #   file) first; {.start}'s caller has done that already
    def initialize(boot: true)
      @boot = boot
    end

    # @param argv [Array<String>]
    # @return [Integer] exit status
    def call(argv)
      command, *rest = argv
      case command
      when nil, 'help', '-h', '--help' then help(rest.first)
      when 'version', '-v', '--version' then puts(Karafka::VERSION) || 0
      else
        klass = self.class.commands[command] or raise UsageError, "unknown command #{command.inspect}"
        klass.new(boot: @boot).call(rest)
      end
    rescue UsageError, OptionParser::ParseError => e
      warn "karafka: #{e.message}"
      warn(klass&.const_defined?(:USAGE, false) ? klass::USAGE : USAGE)
      1
    end

    private

    def help(command)
      klass = command && self.class.commands[command]
      puts klass&.const_defined?(:USAGE, false) ? klass::USAGE : USAGE
      0
    end
  end
end

require_relative 'cli/base'
require_relative 'cli/server'
require_relative 'cli/topics'
require_relative 'cli/info'
require_relative 'cli/install'
require_relative 'cli/console'
require_relative 'cli/swarm'
require_relative 'cli/web'
require_relative 'cli/recurring'
