# frozen_string_literal: true

module Karafka
  class Cli
    class Topics < Base
      # What `karafka topics migrate` would change: topics to create, partitions to add and
      # settings to align, found by comparing the declarations with the cluster. Nothing is
      # changed here. Partitions are never removed and the replication factor of an existing
      # topic is left alone, as in Karafka.
      class Plan
        # @return [Array<Declaration>] topics the cluster does not have
        attr_reader :missing
        # @return [Array<Array(Declaration, Integer)>] topics with fewer partitions than
        #   declared, with their current count
        attr_reader :repartitions
        # @return [Array<Array(Declaration, Integer)>] topics with more partitions than declared
        #   (left as they are: Kafka cannot remove partitions), with their current count
        attr_reader :downscales
        # @return [Array<Array(Declaration, Hash{String => Array(String, String)})>] existing
        #   topics whose settings differ: setting => [current, declared]
        attr_reader :alignments

        # @param declarations [Array<Declaration>]
        # @param admin [Admin]
        def initialize(declarations, admin)
          existing = admin.topics
          @missing = declarations.reject { |declaration| existing.key?(declaration.name) }
          present = declarations - @missing
          counts = present.map { |declaration| [declaration, existing.fetch(declaration.name)] }
          @repartitions = counts.select { |declaration, current| declaration.partitions > current }
          @downscales = counts.select { |declaration, current| declaration.partitions < current }
          @alignments = present.filter_map do |declaration|
            next if declaration.settings.empty?

            differences = differences(declaration, admin.topic_config(declaration.name))
            [declaration, differences] unless differences.empty?
          end
        end

        # @return [Boolean] whether migrate would change nothing (downscales are never applied)
        def empty?
          missing.empty? && repartitions.empty? && alignments.empty?
        end

        # @return [String] the plan, in the shape Karafka prints it
        def to_s
          return "Karafka will not perform any actions. No changes needed.\n" if empty? && downscales.empty?

          [creations_text, repartitions_text, downscales_text, alignments_text].compact.join("\n")
        end

        private

        def differences(declaration, config)
          declaration.settings.each_with_object({}) do |(key, value), differences|
            current = config.dig(key, :value)
            differences[key] = [current, value] unless current == value
          end
        end

        def creations_text
          return if missing.empty?

          lines = missing.flat_map do |declaration|
            ["  + #{declaration.name}:", "    partitions: #{declaration.partitions}",
             "    replication_factor: #{declaration.replication_factor}",
             *declaration.settings.map { |key, value| "    #{key}: #{value}" }]
          end
          "Following topics will be created:\n\n#{lines.join("\n")}\n"
        end

        def repartitions_text
          partitions_text('Following topics will be repartitioned:', repartitions)
        end

        def downscales_text
          partitions_text('Following topics repartitioning will be ignored as downscaling is not supported:',
                          downscales, ' (ignored)')
        end

        # @param counts [Array<Array(Declaration, Integer)>] declarations with their current count
        def partitions_text(title, counts, note = '')
          return if counts.empty?

          lines = counts.map do |declaration, current|
            "  ~ #{declaration.name}:\n    ~ partitions: #{current} => #{declaration.partitions}#{note}"
          end
          "#{title}\n\n#{lines.join("\n")}\n"
        end

        def alignments_text
          return if alignments.empty?

          lines = alignments.map do |declaration, differences|
            changes = differences.map { |key, (from, to)| "    ~ #{key}: #{from.inspect} => #{to.inspect}" }
            "  ~ #{declaration.name}:\n#{changes.join("\n")}"
          end
          "Following topics will have configuration changes:\n\n#{lines.join("\n")}\n"
        end
      end
    end
  end
end
