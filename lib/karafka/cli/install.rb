# frozen_string_literal: true

require 'fileutils'

module Karafka
  class Cli
    # `karafka install`: writes a `karafka.rb` routing the `default` queue and an example job,
    # as Karafka's installer does for its consumers. Existing files are never overwritten.
    class Install < Base
      USAGE = "Usage: karafka install   (writes karafka.rb and app/jobs/example_job.rb; keeps existing files)\n"

      # @param argv [Array<String>]
      # @return [Integer]
      def call(argv)
        raise UsageError, "unexpected argument(s) #{argv.join(' ')}" unless argv.empty?

        rails = File.exist?(File.join(Dir.pwd, 'config', 'application.rb'))
        write('karafka.rb', boot_file(rails))
        write(File.join('app', 'jobs', 'example_job.rb'), example_job)
        if rails
          puts 'Next: set `config.active_job.queue_adapter = :karafka` in config/application.rb, then run ' \
               '`bundle exec karafka topics migrate` and `bundle exec karafka server`.'
        else
          puts 'Next: `bundle exec karafka topics migrate`, then `bundle exec karafka server`.'
        end
        0
      end

      private

      def write(path, content)
        if File.exist?(path)
          puts "Exists  #{path} (left unchanged)"
        else
          FileUtils.mkdir_p(File.dirname(path))
          File.write(path, content)
          puts "Created #{path}"
        end
      end

      def boot_file(rails)
        client_id = File.basename(Dir.pwd).downcase.gsub(/[^a-z0-9_.-]+/, '_')
        <<~RUBY
          # frozen_string_literal: true

          #{rails ? RAILS_HEADER : PLAIN_HEADER}
          class KarafkaApp < Karafka::App
            setup do |config|
              config.kafka = { 'bootstrap.servers': ENV.fetch('KAFKA_BOOTSTRAP_SERVERS', '127.0.0.1:9092') }
              config.client_id = '#{client_id}'
            end

            # A line per job and per error (karafka-rs subscribes it when nobody does).
            Karafka.monitor.subscribe(Karafka::Instrumentation::LoggerListener.new)

            # Report every error the consumer side meets (jobs, commits, dispatches) to your tracker:
            #
            # Karafka.monitor.subscribe('error.occurred') do |event|
            #   ErrorTracker.notify(event[:error], type: event[:type])
            # end

            routes.draw do
              # One topic per Active Job queue name (`queue_as :default`).
              active_job_topic :default do
                # `bundle exec karafka topics migrate` creates and aligns the topic from this.
                config(partitions: 2)
              end
            end
          end
        RUBY
      end

      RAILS_HEADER = "# Loaded by `bundle exec karafka server` after the Rails environment.\n"
      PLAIN_HEADER = <<~RUBY
        require 'active_job'
        require 'karafka'

        ActiveJob::Base.queue_adapter = :karafka
        Dir[File.join(__dir__, 'app', 'jobs', '*.rb')].sort.each { |file| require file }
      RUBY

      def example_job
        base = File.exist?(File.join('app', 'jobs', 'application_job.rb')) ? 'ApplicationJob' : 'ActiveJob::Base'
        <<~RUBY
          # frozen_string_literal: true

          # `ExampleJob.perform_later('hello')` produces this job to the `default` topic;
          # `bundle exec karafka server` runs it.
          class ExampleJob < #{base}
            queue_as :default

            def perform(*args)
              Karafka.logger.info("ExampleJob performed with \#{args.inspect}")
            end
          end
        RUBY
      end
    end
  end
end
