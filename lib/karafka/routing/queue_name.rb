# frozen_string_literal: true

module Karafka
  module Routing
    # The topic an `active_job_topic` consumes, seen the way Active Job names queues: with
    # `config.active_job.queue_name_prefix = "staging"`, `queue_as :default` enqueues to
    # `staging_default`, so `active_job_topic :default` consumes `staging_default` too.
    # A name that already carries the prefix is kept as it is.
    module QueueName
      module_function

      # librdkafka subscribes to every matching topic when the name starts with `^`.
      # @param regex [Regexp]
      # @return [String]
      def subscription_pattern(regex)
        source = regex.source.sub(/\\[zZ]\z/, '$')
        source.start_with?('^', '\\A') ? "^#{source.sub(/\A(\^|\\A)/, '')}" : "^.*#{source}"
      end

      # @param name [String, Symbol]
      # @return [String]
      def topic_for(name)
        name = name.to_s
        return name unless defined?(::ActiveJob::Base)

        prefix = ::ActiveJob::Base.queue_name_prefix
        return name if prefix.nil? || prefix.to_s.empty?

        prefixed = "#{prefix}#{::ActiveJob::Base.queue_name_delimiter}"
        name.start_with?(prefixed) ? name : "#{prefixed}#{name}"
      end
    end
  end
end
