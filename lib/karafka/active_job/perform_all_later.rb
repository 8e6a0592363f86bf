# frozen_string_literal: true

module Karafka
  module ActiveJob
    # `perform_all_later` for Rails before 7.1 (Debian ships 6.1), so the reference examples
    # `ActiveJob.perform_all_later(jobs)` / `Job.perform_all_later(jobs)` work everywhere.
    # Like Rails 7.1: jobs are grouped by adapter; adapters with `enqueue_all` get one call.
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

::ActiveJob.extend(Karafka::ActiveJob::PerformAllLater) unless ::ActiveJob.respond_to?(:perform_all_later)
ActiveSupport.on_load(:active_job) do
  extend Karafka::ActiveJob::PerformAllLater unless respond_to?(:perform_all_later)
end
