# frozen_string_literal: true

module Karafka
  class Cli
    # `karafka topics ACTION [--detailed-exitcode]`: Karafka's declarative topics. Only
    # `delete` and `reset` destroy anything; `migrate` is safe in a deploy script.
    class Topics < Base
      USAGE = <<~TEXT
        Usage: karafka topics ACTION [--detailed-exitcode]
          migrate       create missing topics, add missing partitions, align settings
          plan          print what migrate would do; change nothing
          create        create missing topics
          repartition   add partitions to topics with fewer than declared
          align         set the declared settings on existing topics
          delete        delete the declared topics
          reset         delete and re-create the declared topics
          list          list the cluster's topics
        Declared topics: every routed topic (`config(partitions:, replication_factor:, **settings)`;
        `config(active: false)` ones are left alone), its dead letter topic and the schedules topics.
        --detailed-exitcode: exit 0 when nothing changed (or would), 2 when something did, 1 on errors.
      TEXT

      ACTIONS = %w[migrate plan create repartition align delete reset list].freeze
      # How long `reset` waits for a deleted topic to disappear before re-creating it.
      RESET_TIMEOUT = 60

      # @param argv [Array<String>]
      # @return [Integer]
      def call(argv)
        detailed = false
        parser = OptionParser.new
        parser.on('--detailed-exitcode', '--detailed_exitcode') { detailed = true }
        action, *rest = parser.parse(argv)
        raise UsageError, "unknown topics action #{action.inspect}" unless ACTIONS.include?(action)
        raise UsageError, "unexpected argument(s) #{rest.join(' ')}" unless rest.empty?

        boot
        @admin = Admin.new
        changed = public_send(action)
        detailed && changed ? 2 : 0
      end

      # @return [Boolean] whether anything changed
      def migrate
        plan = Plan.new(declarations, @admin)
        if plan.empty?
          puts 'Topics match the routes: nothing to change'
          return false
        end

        plan.missing.each { |declaration| puts "Created #{declaration.name}" if create_topic(declaration) }
        apply_repartitions(plan)
        apply_alignments(plan)
        true
      end

      # @return [Boolean] whether migrate would change anything
      def plan
        plan = Plan.new(declarations, @admin)
        puts plan
        !plan.empty?
      end

      # @return [Boolean]
      def create
        declarations.map do |declaration|
          created = create_topic(declaration)
          puts "#{created ? 'Created' : 'Exists '} #{declaration.name}"
          created
        end.any?
      end

      # @return [Boolean]
      def repartition
        apply_repartitions(Plan.new(declarations, @admin))
      end

      # @return [Boolean]
      def align
        apply_alignments(Plan.new(declarations, @admin))
      end

      # @return [Boolean]
      def delete
        declarations.map do |declaration|
          deleted = @admin.delete_topic(declaration.name)
          puts "#{deleted ? 'Deleted' : 'Missing'} #{declaration.name}"
          deleted
        end.any?
      end

      # @return [true]
      def reset
        declarations.each do |declaration|
          @admin.delete_topic(declaration.name)
          recreate(declaration)
          puts "Reset #{declaration.name}"
        end
        true
      end

      # @return [false] (reads only)
      def list
        @admin.topics.each { |name, partitions| puts "#{name} (#{partitions} partitions)" }
        false
      end

      private

      def declarations
        @declarations ||= Declarations.from(App.routes)
      end

      def apply_repartitions(plan)
        plan.repartitions.each do |declaration, current|
          @admin.create_partitions(declaration.name, declaration.partitions)
          puts "Repartitioned #{declaration.name}: #{current} => #{declaration.partitions} partitions"
        end.any?
      end

      def apply_alignments(plan)
        plan.alignments.each do |declaration, differences|
          @admin.alter_topic_config(declaration.name, differences.transform_values(&:last))
          changes = differences.map { |key, (from, to)| "#{key}: #{from.inspect} => #{to.inspect}" }
          puts "Aligned #{declaration.name}: #{changes.join(', ')}"
        end.any?
      end

      def create_topic(declaration)
        @admin.create_topic_unless_exists(declaration.name, declaration.partitions, declaration.replication_factor,
                                          declaration.settings)
      end

      # Kafka deletes topics asynchronously: creating the name again succeeds only once the
      # deletion is through.
      def recreate(declaration)
        deadline = ::Process.clock_gettime(::Process::CLOCK_MONOTONIC) + RESET_TIMEOUT
        loop do
          begin
            return if !@admin.topics.key?(declaration.name) && create_topic(declaration)
          rescue Errors::AdminError => e
            raise unless e.message.match?(/marked for deletion|already exists/i)
          end
          if ::Process.clock_gettime(::Process::CLOCK_MONOTONIC) > deadline
            raise Errors::AdminError, "reset #{declaration.name}: still being deleted after #{RESET_TIMEOUT} s"
          end

          sleep 0.1 # waiting for the broker to finish the deletion
        end
      end
    end
  end
end

require_relative 'topics/declarations'
require_relative 'topics/plan'
