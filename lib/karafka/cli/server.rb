# frozen_string_literal: true

module Karafka
  class Cli
    # `karafka server [--include-topics a,b] [--exclude-consumer-groups c] ...`: runs the
    # routes this process should run (all by default) until SIGINT / SIGTERM.
    class Server < Base
      # Karafka 2.5's flags, with the older and underscore spellings it still accepts.
      FLAGS = {
        [:include, :consumer_groups] => %w[-g --consumer-groups --include-consumer-groups],
        [:exclude, :consumer_groups] => %w[--exclude-consumer-groups],
        [:include, :subscription_groups] => %w[--subscription-groups --include-subscription-groups],
        [:exclude, :subscription_groups] => %w[--exclude-subscription-groups],
        [:include, :topics] => %w[--topics --include-topics],
        [:exclude, :topics] => %w[--exclude-topics]
      }.freeze

      USAGE = <<~TEXT
        Usage: karafka server [options]   (aliases: s, consumer)
          --include-consumer-groups a,b      run only these consumer groups (also -g, --consumer-groups)
          --exclude-consumer-groups a,b      run all but these
          --include-subscription-groups a,b  run only these subscription groups (also --subscription-groups)
          --exclude-subscription-groups a,b
          --include-topics a,b               run only these topics (also --topics)
          --exclude-topics a,b
        Names are comma-separated; `_` may replace `-` in flag names. A name no route has is an
        error. Routes outside `consumer_group` belong to the group named `config.group_id`.
      TEXT

      # @param argv [Array<String>]
      # @return [Integer] exit status
      def call(argv)
        filter = parse_filter(argv)
        # Log lines must reach files, pipes and journald as they happen, not at exit.
        $stdout.sync = true
        # Booting (karafka.rb, a Rails app) can take seconds; a SIGTERM meanwhile (a deploy, a
        # Kubernetes pod stopped early) must mean "stop", not kill the process by signal.
        stop_requests = Queue.new
        Karafka::Server::TRAPPED.each { |signal| trap(signal) { stop_requests << signal } }
        boot
        apply(filter)
        Karafka::Server.execution_mode.standalone!
        Karafka::Server.new(stop_requests: stop_requests).run ? 0 : 1
      rescue Errors::ForcefulShutdownError => e
        # As Karafka: reported as `app.stopping.error`, and a status of its own, so a deploy
        # can tell jobs cut off at shutdown_timeout from a failed boot (1).
        Karafka.monitor.instrument('error.occurred', { type: 'app.stopping.error', error: e })
        Karafka::App.config.internal.forceful_exit_code
      end

      private

      # @return [String] the command, in error messages (`karafka swarm` shares the filters)
      def command_name
        'server'
      end

      # @return [Hash{Symbol => Hash}] `{ include: { topics: [...] }, exclude: { ... } }`
      def parse_filter(argv)
        lists = { include: Hash.new { |h, k| h[k] = [] }, exclude: Hash.new { |h, k| h[k] = [] } }
        parser = OptionParser.new
        FLAGS.each do |(mode, kind), names|
          spellings = names.flat_map { |name| [name, name.tr('-', '_').sub(/\A__/, '--')] }.uniq
          parser.on(*spellings.map { |name| name.start_with?('--') ? "#{name} NAMES" : name }, Array) do |values|
            lists[mode][kind].concat(values.map(&:strip).reject(&:empty?))
          end
        end
        left = parser.parse(argv)
        unless left.empty?
          raise UsageError, "unexpected argument(s) #{left.join(' ')} (names are comma-separated: --include-topics a,b)"
        end

        lists
      end

      # Hands the filter to the routes; refuses names no route has and filters that leave
      # nothing to run, as Karafka does.
      def apply(lists)
        filter = Routing::Filter.new(include: lists[:include], exclude: lists[:exclude])
        routes = App.routes
        unknown = filter.unknown_names(routes.names)
        # As in Karafka, with pattern routes any topic name may be one that a pattern finds later.
        unknown.delete(:topics) if routes.topics.any?(&:pattern)
        unless unknown.empty?
          details = unknown.map do |kind, names|
            "#{kind.to_s.tr('_', ' ')} #{names.join(', ')} (routed: #{routes.names[kind].join(', ').then { |s| s.empty? ? 'none' : s }})"
          end
          raise Errors::InvalidConfigurationError, "karafka #{command_name} #{filter}: no route has #{details.join('; ')}"
        end

        routes.filter = filter
        if routes.active_topics.empty? && routes.active_schedule_topics.empty? && !RecurringTasks.active?
          raise Errors::InvalidConfigurationError, "karafka #{command_name} #{filter}: leaves no topic to consume"
        end

        # Before `karafka swarm` forks: refused once, not by every node (Server#run checks too).
        ActiveJob::OnOverdue.validate!(routes)
        routes.refuse_unrunnable!

        log(filter, routes) unless filter.empty?
      end

      def log(filter, routes)
        running = routes.active_topics.map(&:name) + routes.active_schedule_topics
        Karafka.logger.info("Routes filtered (#{filter}): running #{running.join(', ')}")
      end
    end
  end
end
