# frozen_string_literal: true

module Karafka
  module ActiveJob
    # What happens to a job that ran past its deadline (`karafka_options(on_overdue:)`, else
    # `config.active_job.on_overdue`):
    # - `:report` (the default): it is reported (lib/karafka/active_job/deadlines.rb) and
    #   otherwise treated as any job;
    # - `:dead_letter`: if it then raises, it goes to its topic's dead letter queue at once,
    #   without the retries left (each could block its partition for another deadline); its
    #   dead letter carries a `deadline_exceeded` header (the deadline in seconds). If it
    #   succeeds it is committed as usual.
    #
    # A `:dead_letter` job class routed to a topic without a dead letter queue is refused at
    # boot ({.validate!}); one only found at run time (its queue known only then) is retried
    # as usual, and reported with `error.occurred` once per class and topic.
    module OnOverdue
      VALUES = %i[report dead_letter].freeze
      # `error.occurred` type of the run-time fallback.
      FALLBACK_ERROR = 'active_job.on_overdue.no_dead_letter_queue'

      # A job's error after it ran past its deadline, with `on_overdue: :dead_letter`: raised
      # by {Deadlines.watch} around the job's own error, unwrapped by the executor.
      class Failure < StandardError
        # @return [StandardError] the job's own error
        attr_reader :error
        # @return [Float] seconds
        attr_reader :deadline

        def initialize(error, deadline)
          @error = error
          @deadline = deadline
          super("#{error.class} after running past its deadline of #{deadline} s")
        end
      end

      @mutex = Mutex.new
      @by_class = {}
      @reported = {}

      class << self
        # @param job_class [String]
        # @return [Boolean] whether an overdue failure of `job_class` is dead-lettered at once
        def dead_letter?(job_class)
          @by_class.fetch(job_class) do
            klass = Object.const_get(job_class) rescue nil # rubocop:disable Style/RescueModifier
            @by_class[job_class] = of(klass, App.config) == :dead_letter
          end
        end

        # @param error [StandardError] what a job with a deadline raised
        # @param entry [Deadlines::Running] the job
        # @param now [Float] monotonic time
        # @return [StandardError] `error` wrapped in a {Failure} if the job ran past its deadline
        #   and is `:dead_letter`, else `error` itself
        def failure(error, entry, now)
          return error unless now >= entry.due && dead_letter?(entry.job_class)

          Failure.new(error, entry.deadline)
        end

        # @param raised [StandardError]
        # @return [StandardError] the job's own error
        def unwrap(raised)
          raised.is_a?(Failure) ? raised.error : raised
        end

        # A `:dead_letter` job found at run time on a topic without a dead letter queue: it is
        # retried as usual; reported once per class and topic.
        # @param job_class [String]
        # @param topic [String]
        # @param monitor [Instrumentation::Monitor]
        def fallback(job_class, topic, monitor)
          first = @mutex.synchronize { @reported[[job_class, topic]] ? false : (@reported[[job_class, topic]] = true) }
          return unless first

          error = Errors::InvalidConfigurationError.new(
            "#{job_class} has on_overdue: :dead_letter but topic '#{topic}' has no dead_letter_queue: " \
            'its overdue failures are retried as usual'
          )
          monitor.instrument('error.occurred', { type: FALLBACK_ERROR, error: error, job_class: job_class, topic: topic })
        end

        # At boot: every loaded job class that has a deadline and `on_overdue: :dead_letter`
        # (its own or the global one) and whose queue is a topic this process consumes needs a
        # dead letter queue there; so does every topic this process consumes when the global
        # deadline and `config.active_job.on_overdue = :dead_letter` are both set.
        # @param routes [Routing::Builder]
        # @param config [Setup::Config]
        # @raise [Errors::InvalidConfigurationError] naming the job class, topic and setting
        def validate!(routes, config = App.config)
          topics = routes.active_topics
          errors = global_errors(topics, config.active_job) + class_errors(topics, config)
          return if errors.empty?

          raise Errors::InvalidConfigurationError, "on_overdue: #{errors.join('; ')}"
        end

        # Forgets cached classes and reports (specs, code reloading).
        def reset!
          @by_class = {}
          @mutex.synchronize { @reported = {} }
        end

        private

        # @return [Symbol, nil] `klass`' effective on_overdue, nil when it has no deadline
        def of(klass, config)
          own = klass.respond_to?(:karafka_options) ? klass.karafka_options : {}
          return nil unless own[:deadline] || config.active_job.deadline

          own[:on_overdue] || config.active_job.on_overdue
        end

        def global_errors(topics, active_job)
          return [] unless active_job.deadline && active_job.on_overdue == :dead_letter

          topics.reject(&:dead_letter).map do |topic|
            'config.active_job.on_overdue is :dead_letter (with config.active_job.deadline) but ' \
              "#{route_name(topic)} has no dead_letter_queue (add one, or set karafka_options(on_overdue: :report) " \
              'on the job classes enqueued there and config.active_job.on_overdue = :report)'
          end
        end

        def class_errors(topics, config)
          return [] unless defined?(::ActiveJob::Base)

          ::ActiveJob::Base.descendants.filter_map do |klass|
            next unless klass.name && of(klass, config) == :dead_letter

            queue = klass.queue_name
            next unless queue.is_a?(String) || queue.is_a?(Symbol) # queue_as with a block: known at run time

            topic = topics.find { |t| t.pattern ? t.pattern.match?(queue.to_s) : t.name == queue.to_s }
            next if topic.nil? || topic.dead_letter

            setting = klass.karafka_options[:on_overdue] ? 'karafka_options(on_overdue: :dead_letter)' : 'config.active_job.on_overdue = :dead_letter'
            "#{klass.name} has #{setting} but its topic #{route_name(topic)} has no dead_letter_queue"
          end
        end

        def route_name(topic)
          topic.pattern ? "active_job_pattern #{topic.pattern.inspect}" : "'#{topic.name}'"
        end
      end
    end
  end
end
