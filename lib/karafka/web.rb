# frozen_string_literal: true

require 'socket'
require 'securerandom'

module Karafka
  # karafka-rs' jobs dashboard, entered as karafka-web's Web UI is:
  #
  #   # karafka.rb
  #   Karafka::Web.setup { |config| config.ui.sessions.secret = ENV['KARAFKA_WEB_SECRET'] }
  #   Karafka::Web.enable!
  #   # config/routes.rb
  #   mount Karafka::Web::App, at: '/karafka'
  #
  # Every `karafka server` process with Web enabled publishes a periodic report of itself to a
  # compacted states topic (and the same report to a short-retention reports topic, the
  # history behind the rates) and each job error to an errors topic; the dashboard ({App})
  # reads them back with {Karafka::Admin}. No database; several hosts show up side by side.
  module Web
    # One level of settings (`config.tracking.interval = 5_000`).
    class Node
      # @param values [Hash{Symbol => Object}] setting => default (a Hash is a nested level)
      def initialize(values)
        values.each do |name, value|
          singleton_class.attr_accessor(name)
          public_send("#{name}=", value.is_a?(Hash) ? Node.new(value) : value)
        end
      end
    end

    # The settings karafka-web documents that karafka-rs uses; names and defaults as there.
    DEFAULTS = {
      topics: {
        consumers: {
          states: { name: 'karafka_consumers_states' },
          reports: { name: 'karafka_consumers_reports' }
        },
        errors: { name: 'karafka_errors' },
        # karafka-rs: Skip on the Dead letters page (a compacted topic, one record per dead letter).
        dlq_actions: { name: 'karafka_web_dlq_actions' }
      },
      # How often (ms) a server process publishes its report.
      tracking: { interval: 5_000 },
      ui: {
        # Signs the CSRF cookie; a random per-process secret when unset (forms then need a
        # reload after a restart, and several web processes need the same secret).
        sessions: { secret: nil },
        # A running job is highlighted after this many seconds.
        long_running_after: 60
      }
    }.freeze

    # Topic settings `karafka topics migrate` creates the Web topics with (karafka-web's).
    TOPIC_SETTINGS = {
      states: { 'cleanup.policy' => 'compact', 'retention.ms' => '86400000', 'segment.ms' => '86400000' },
      reports: { 'cleanup.policy' => 'delete', 'retention.ms' => '86400000' },
      errors: { 'cleanup.policy' => 'delete', 'retention.ms' => '259200000' },
      dlq_actions: { 'cleanup.policy' => 'compact', 'retention.ms' => '604800000' }
    }.freeze

    class << self
      # @return [Node] the settings
      def config
        @config ||= Node.new(DEFAULTS)
      end

      # @yieldparam config [Node]
      def setup
        yield config
        self
      end

      # Turns reporting on for `karafka server` processes (and the topics on for `karafka topics`).
      def enable!
        @enabled = true
        self
      end

      # @return [Boolean]
      def enabled?
        @enabled == true
      end

      # @api private (tests)
      def reset!
        @enabled = false
        @config = nil
      end

      # @return [Hash{Symbol => String}] :states, :reports, :errors, :dlq_actions => topic name
      def topic_names
        topics = config.topics
        { states: topics.consumers.states.name, reports: topics.consumers.reports.name,
          errors: topics.errors.name, dlq_actions: topics.dlq_actions.name }
      end

      # @return [String] this process' id in the reports: "host:pid:random"
      def process_id
        @process_id = nil if @process_pid != ::Process.pid
        @process_pid = ::Process.pid
        @process_id ||= "#{Socket.gethostname}:#{::Process.pid}:#{SecureRandom.hex(3)}"
      end
    end
  end
end

require_relative 'web/tracker'
require_relative 'web/reporter'
require_relative 'web/data'
require_relative 'web/actions'
require_relative 'web/app'
