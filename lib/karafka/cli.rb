# frozen_string_literal: true

module Karafka
  # `karafka server | topics create|list|delete | info | version`.
  class Cli
    USAGE = <<~TEXT
      Usage: karafka COMMAND
        server                 consume the routed topics and run their jobs
        topics create          create every routed topic, dead letter and schedules topic
                               (partitions from `config(partitions:)`)
        topics list            list the cluster's topics
        topics delete          delete every routed topic
        info                   print settings and routes
        version                print the version
      The boot file is ./karafka.rb, or KARAFKA_BOOT_FILE.
    TEXT

    SWARM_UNSUPPORTED = 'karafka swarm is not available in karafka-rs: start `karafka server` once per ' \
                        'process you want (config.swarm.nodes is accepted and not used) under your process ' \
                        'manager; each server runs config.concurrency worker threads.'

    # @param argv [Array<String>]
    # @return [Integer] exit status
    def call(argv)
      command, *rest = argv
      case command
      when 'server' then server
      when 'topics' then boot && topics(rest.first)
      when 'info' then boot && info
      when 'version', '-v', '--version' then puts(Karafka::VERSION) || 0
      when 'swarm' then warn(SWARM_UNSUPPORTED) || 1
      else
        warn USAGE
        command.nil? || %w[help -h --help].include?(command) ? 0 : 2
      end
    end

    private

    def server
      # Log lines must reach files, pipes and journald as they happen, not at exit.
      $stdout.sync = true
      boot
      Server.new.run ? 0 : 1
    end

    # Loads the Rails environment when this is a Rails app (the railtie then requires the
    # boot file), then the boot file itself - as Karafka's CLI does.
    def boot
      boot_file = Karafka.boot_file
      raise Errors::MissingBootFileError, "no boot file at #{boot_file}" unless File.exist?(boot_file)

      rails_environment = File.join(Dir.pwd, 'config', 'environment.rb')
      if File.exist?(rails_environment)
        require 'rails'
        # `karafka` was required before Rails was, so its railtie is not loaded yet.
        require_relative 'railtie'
        require rails_environment
      end
      require boot_file
      true
    end

    def topics(action)
      case action
      when 'create'
        routed_topics.each do |name, declaration|
          settings = declaration.except(:partitions, :replication_factor)
          created = Admin.create_topic(name, declaration[:partitions], declaration.fetch(:replication_factor, 1), settings)
          puts "#{created ? 'Created' : 'Exists '} #{name}"
        end
      when 'delete'
        routed_topics.each_key { |name| puts "#{Admin.delete_topic(name) ? 'Deleted' : 'Missing'} #{name}" }
      when 'list'
        Admin.topics.each { |name, partitions| puts "#{name} (#{partitions} partitions)" }
      else
        warn USAGE
        return 2
      end
      0
    end

    # @return [Hash{String => Integer}] job, dead letter and schedules topics => partitions
    # Topic name => its declaration (`config(partitions:, replication_factor:, **settings)`);
    # dead letter and schedules topics get one partition.
    def routed_topics
      topics = App.routes.reject(&:pattern).to_h { |topic| [topic.name, topic.declaration] }
      App.routes.each do |topic|
        dlq = topic.dead_letter && topic.dead_letter[:topic]
        topics[dlq] ||= { partitions: 1 } if dlq
      end
      App.routes.schedule_topics.each { |name| topics[name] ||= { partitions: 1 } }
      topics
    end

    def info
      config = App.config
      puts "karafka-rs #{Karafka::VERSION} on #{RUBY_DESCRIPTION}"
      puts "client_id: #{config.client_id}  group_id: #{config.group_id}  concurrency: #{config.concurrency}"
      puts "kafka: #{config.kafka.inspect}"
      puts "topics: #{App.routes.map(&:name).join(', ')}"
      0
    end
  end
end
