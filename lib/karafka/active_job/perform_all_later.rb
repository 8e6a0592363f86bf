# frozen_string_literal: true

module Karafka
  module ActiveJob
    # `perform_all_later` for Rails before 7.1 (Debian 12 ships 6.1), so the reference examples
    # `ActiveJob.perform_all_later(jobs)` / `Job.perform_all_later(jobs)` work everywhere.
    # Like Rails 7.1: jobs are grouped by adapter; adapters with `enqueue_all` get one call.
    # On Rails 7.1+ it is not installed at all: Rails' own runs, with its instrumentation.
    module PerformAllLater
      # @param jobs [Array<ActiveJob::Base>] (nested arrays are flattened)
      # @return [nil] as in Rails
      def perform_all_later(*jobs)
        jobs.flatten.group_by(&:queue_adapter).each do |adapter, grouped|
          if adapter.respond_to?(:enqueue_all)
            adapter.enqueue_all(grouped)
          else
            grouped.each(&:enqueue)
          end
        end
        nil
      end
    end
  end
end

# By version, not `respond_to?`: on 7.1+ Rails defines `ActiveJob.perform_all_later` only
# once ActiveJob::Base (autoloaded) is loaded, which may be after this file.
if ::ActiveJob.gem_version < Gem::Version.new('7.1')
  ::ActiveJob.extend(Karafka::ActiveJob::PerformAllLater)
  ActiveSupport.on_load(:active_job) { extend Karafka::ActiveJob::PerformAllLater }
end
