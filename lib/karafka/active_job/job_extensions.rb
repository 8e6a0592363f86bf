# frozen_string_literal: true

require_relative 'job_options_contract'

module Karafka
  module ActiveJob
    # `karafka_options` on every Active Job class. Options are validated when set and merged
    # per key with the parent's: a subclass overrides only what it names.
    module JobExtensions
      DEFAULTS = {
        dispatch_method: :produce_async,
        dispatch_many_method: :produce_many_async
      }.freeze

      # @param new_options [Hash, nil] options to set; nil reads them
      # @return [Hash] the effective options of this class
      def karafka_options(new_options = nil)
        return _karafka_options if new_options.nil?

        options = new_options.transform_keys(&:to_sym)
        App.config.internal.active_job.job_options_contract.validate!(self, options)
        # Jobs look their deadline up only once some class or the setup declared one.
        Deadlines.declared = true if options.key?(:deadline)
        if options.key?(:deadline) || options.key?(:on_overdue)
          Deadlines.reset!
          OnOverdue.reset!
        end
        self._karafka_options = _karafka_options.merge(options).freeze
      end

      # @param base [Class] ActiveJob::Base
      def self.extended(base)
        base.class_attribute :_karafka_options, instance_accessor: false, default: DEFAULTS
      end
    end
  end
end
