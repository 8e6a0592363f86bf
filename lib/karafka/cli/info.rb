# frozen_string_literal: true

module Karafka
  class Cli
    # `karafka info`: versions, settings (secrets redacted) and routes.
    class Info < Base
      USAGE = "Usage: karafka info\n"

      # Settings whose values are secrets: passwords, keys, OAuth settings, PEM material.
      SECRET = /password|secret|token|credential|\Asasl\.oauthbearer\.|\Assl\.key\.|\.pem\z/i
      REDACTED = '[FILTERED]'

      # @param argv [Array<String>]
      # @return [Integer]
      def call(argv)
        raise UsageError, "unexpected argument(s) #{argv.join(' ')}" unless argv.empty?

        boot
        config = App.config
        puts "karafka-rs #{Karafka::VERSION} on #{RUBY_DESCRIPTION}"
        puts "Boot file: #{Karafka.boot_file}"
        puts "client_id: #{config.client_id}  group_id: #{config.group_id}  concurrency: #{config.concurrency}"
        puts "kafka: #{self.class.redact(config.kafka).inspect}"
        routes
        0
      end

      # @param kafka [Hash] librdkafka settings
      # @return [Hash] the same settings, secret values replaced by `[FILTERED]`
      def self.redact(kafka)
        kafka.to_h { |key, value| [key, SECRET.match?(key.to_s) ? REDACTED : value] }
      end

      private

      def routes
        topics = App.routes.topics
        puts "topics: #{topics.map(&:name).join(', ')}"
        topics.group_by { |topic| topic.consumer_group_name || App.config.group_id.to_s }.each do |group, members|
          puts "consumer group #{group}: #{members.map { |topic| describe(topic) }.join(', ')}"
        end
        schedules = App.routes.schedule_topics
        puts "scheduled messages: #{schedules.join(', ')}" unless schedules.empty?
      end

      def describe(topic)
        notes = []
        notes << "subscription group #{topic.subscription_group_name}" if topic.subscription_group_name
        notes << 'inactive' unless topic.active?
        notes << "dead letter queue #{topic.dead_letter[:topic]}" if topic.dead_letter && topic.dead_letter[:topic]
        notes.empty? ? topic.name : "#{topic.name} (#{notes.join(', ')})"
      end
    end
  end
end
