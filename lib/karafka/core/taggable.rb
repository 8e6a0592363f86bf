# frozen_string_literal: true

module Karafka
  module Core
    # karafka-core's tagging API (Web UI "Tagging"): named values, added, replaced and removed
    # at runtime. `Karafka::Process.tags` are shown with the process on the dashboard.
    module Taggable
      # Tag names identify tags (they are not shown); values are what is shown.
      class Tags
        def initialize
          @tags = {}
          @mutex = Mutex.new
        end

        # Adds a tag, or replaces the value of the one with that name.
        # @param name [String, Symbol]
        # @param value [#to_s]
        def add(name, value)
          @mutex.synchronize { @tags[name.to_s] = value.to_s }
        end

        # @param name [String, Symbol]
        def delete(name)
          @mutex.synchronize { @tags.delete(name.to_s) }
        end

        def clear
          @mutex.synchronize { @tags.clear }
        end

        # @return [Array<String>] the values, in the order they were first added
        def to_a
          @mutex.synchronize { @tags.values }
        end

        # @return [Array<String>] (as karafka-core serialises tags)
        def as_json(*)
          to_a
        end

        # @return [String]
        def to_json(*args)
          to_a.to_json(*args)
        end
      end

      # @return [Tags] this object's tags
      def tags
        @tags ||= Tags.new
      end
    end
  end

  # This process, as Karafka names it for tagging: `Karafka::Process.tags.add(:commit, sha)`.
  module Process
    extend Core::Taggable
  end
end
