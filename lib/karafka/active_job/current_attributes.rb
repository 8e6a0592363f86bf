# frozen_string_literal: true

module Karafka
  module ActiveJob
    # `Karafka::ActiveJob::CurrentAttributes.persist('Current')`: the attributes of the named
    # `ActiveSupport::CurrentAttributes` classes are stored in the job payload at enqueue
    # (`"cattr_0"`, `"cattr_1"`, ... as Karafka does) and restored around `perform`.
    module CurrentAttributes
      class << self
        # @param class_names [Array<String, Class>]
        def persist(*class_names)
          @class_names = (names + class_names.map(&:to_s)).uniq.freeze
          PathEpoch.bump!
        end

        NONE = [].freeze
        private_constant :NONE

        # @return [Array<String>]
        def names
          @class_names || NONE
        end

        # Adds the current values to a serialized job.
        # @param job_hash [Hash]
        # @return [Hash]
        def dump(job_hash)
          names.each_with_index do |name, index|
            attributes = Object.const_get(name).attributes
            job_hash["cattr_#{index}"] = ::ActiveJob::Arguments.serialize([attributes]).first unless attributes.empty?
          end
          job_hash
        end

        # Runs the block with the job's stored values set, resetting them afterwards even when
        # the job raises, so nothing leaks into the next job on this thread.
        #
        # In a Rails app, inside the app's reloader: Active Job's `execute` enters it (its
        # railtie's hook), and entering it resets every CurrentAttributes class, which would
        # wipe the values restored just before. Entered here first, the inner entry is a no-op,
        # as in Karafka, whose worker runs each job inside the app's executor.
        # @param job_hash [Hash]
        def around(job_hash, &block)
          return yield if names.empty?

          reloader = rails_reloader
          return restore(job_hash, 0, &block) unless reloader

          reloader.wrap { restore(job_hash, 0, &block) }
        end

        private

        # @return [Class, nil] the initialized Rails app's reloader
        def rails_reloader
          return nil unless defined?(::Rails) && ::Rails.respond_to?(:application)

          app = ::Rails.application
          app&.initialized? ? app.reloader : nil
        end

        def restore(job_hash, index, &block)
          return yield if index >= names.size

          klass = Object.const_get(names[index])
          stored = job_hash["cattr_#{index}"]
          values = stored ? ::ActiveJob::Arguments.deserialize([stored]).first : {}
          klass.reset
          klass.set(values) { restore(job_hash, index + 1, &block) }
        ensure
          klass&.reset
        end
      end
    end
  end
end
