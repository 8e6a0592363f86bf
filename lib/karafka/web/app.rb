# frozen_string_literal: true

require 'openssl'
require 'rack'
require_relative 'view'
require_relative 'csrf'
require_relative 'recurring_page'

module Karafka
  module Web
    # The dashboard: a plain Rack app (`mount Karafka::Web::App, at: '/karafka'`, or
    # `karafka web`). Pages are GETs; every state change is a POST with a CSRF token, and
    # goes through a confirmation page first.
    class App
      include RecurringPage

      PAGES = %w[dashboard processes jobs topics errors dead_letters scheduled recurring routing].freeze
      POSTS = {
        'dead_letters/confirm' => :confirm_dead_letters, 'dead_letters/apply' => :apply_dead_letters,
        'scheduled/confirm' => :confirm_schedules, 'scheduled/apply' => :apply_schedules,
        'jobs/confirm' => :confirm_job_cancels, 'jobs/apply' => :apply_job_cancels,
        'recurring/confirm' => :confirm_recurring, 'recurring/apply' => :apply_recurring
      }.freeze
      # Pages the "live" checkbox reloads (not the ones with forms).
      REFRESHED = %w[dashboard processes jobs topics errors].freeze

      # @param env [Hash] the Rack env
      # @return [Array] a Rack response
      def self.call(env)
        new(env).response
      end

      def initialize(env)
        @request = Rack::Request.new(env)
        @csrf = Csrf.new(@request)
      end

      # @return [Array]
      def response
        path = @request.path_info.to_s.sub(%r{\A/+}, '').sub(%r{/+\z}, '')
        path = 'dashboard' if path.empty?
        if @request.post?
          action = POSTS[path] or return not_found
          return forbidden unless @csrf.valid?(@request.POST['csrf'])

          send(action)
        elsif @request.get? || @request.head?
          PAGES.include?(path) ? page(path) : not_found
        else
          [405, { 'content-type' => 'text/plain', 'allow' => 'GET, POST' }, ['Method Not Allowed']]
        end
      rescue ArgumentError, Errors::BaseError => e
        page('failure', { error: e }, status: 422)
      end

      private

      def data
        @data ||= Data.new
      end

      def page(name, locals = {}, status: 200)
        locals = page_locals(name).merge(locals)
        context = View::Context.new(locals.merge(base: @request.script_name, csrf_token: @csrf.token, page: name,
                                                 notice: @request.GET['notice'], refresh: REFRESHED.include?(name)))
        html = context.render_page(name)
        headers = { 'content-type' => 'text/html; charset=utf-8', 'cache-control' => 'no-store',
                    'x-frame-options' => 'DENY', 'x-content-type-options' => 'nosniff',
                    'content-security-policy' => "default-src 'self'; style-src 'self' 'unsafe-inline'; " \
                                                 "script-src 'self' 'unsafe-inline'; img-src 'self' data:" }
        @csrf.set_cookie(headers)
        [status, headers, [html]]
      end

      def page_locals(name)
        case name
        when 'dashboard' then { data: data, rates: data.rates.last(60) }
        when 'dead_letters' then dead_letters_locals
        when 'recurring' then recurring_locals
        when 'processes', 'jobs', 'topics', 'errors', 'scheduled', 'routing' then { data: data }
        else {}
        end
      end

      def dead_letters_locals
        topics = data.dlq_topics
        topic = @request.GET['topic'] || topics.first
        raise ArgumentError, "#{topic} is not a dead letter topic of the routes" if topic && !topics.include?(topic)

        { topics: topics, topic: topic, letters: topic ? data.dead_letters(topic) : [] }
      end

      # Items are "partition/offset" of one dead letter topic.
      def selected_letters
        topic = @request.POST['topic'].to_s
        raise ArgumentError, "#{topic} is not a dead letter topic of the routes" unless data.dlq_topics.include?(topic)

        items = single_item ? [single_item.last] : Array(@request.POST['items'])
        items = items.map do |item|
          partition, offset = item.to_s.split('/', 2)
          [Integer(partition), Integer(offset)]
        end
        raise ArgumentError, 'select at least one dead letter' if items.empty?

        [topic, items]
      end

      # A row's own Retry / Skip button: "retry:partition/offset".
      def single_item
        value = @request.POST['item_action']
        value&.to_s&.split(':', 2)
      end

      def letter_action
        action = (single_item ? single_item.first : @request.POST['action_name']).to_s
        raise ArgumentError, "unknown action #{action}" unless %w[retry skip].include?(action)

        action
      end

      def confirm_dead_letters
        topic, items = selected_letters
        page('confirm', { action_path: 'dead_letters/apply', title: "#{letter_action.capitalize} dead letters",
                          fields: { 'topic' => topic, 'action_name' => letter_action },
                          items: items.map { |p, o| "#{p}/#{o}" },
                          describe: ->(item) { "#{topic}/#{item}" }, back: url('dead_letters', topic: topic) })
      end

      def apply_dead_letters
        topic, items = selected_letters
        action = letter_action
        # A second submit (a double click, a resent form) must not run a job twice.
        handled = items.map { |partition, offset| Actions.dlq_key(topic, partition, offset) } & data.dlq_actions.keys
        raise ArgumentError, "already handled: #{handled.join(', ')}" unless handled.empty?

        items.each do |partition, offset|
          action == 'retry' ? Actions.retry_dead_letter(topic, partition, offset) : Actions.skip_dead_letter(topic, partition, offset)
        end
        redirect('dead_letters', topic: topic, notice: "#{action == 'retry' ? 'Retried' : 'Skipped'} #{items.size} dead letter(s)")
      end

      # Items are "topic/partition/key" (the key may contain '/': it comes last).
      def selected_schedules
        topics = Karafka::App.routes.schedule_topics.map(&:to_s)
        items = Array(@request.POST['items']).map do |item|
          topic, partition, key = item.to_s.split('/', 3)
          raise ArgumentError, "#{topic} is not a schedules topic of the routes" unless topics.include?(topic)

          [topic, Integer(partition), key]
        end
        raise ArgumentError, 'select at least one schedule' if items.empty?

        items
      end

      def confirm_schedules
        items = selected_schedules
        page('confirm', { action_path: 'scheduled/apply', title: 'Cancel scheduled jobs', fields: {},
                          items: items.map { |item| item.join('/') }, describe: ->(item) { item },
                          back: url('scheduled') })
      end

      def apply_schedules
        items = selected_schedules
        items.each { |topic, partition, key| Actions.cancel_schedule(topic, partition, key) }
        redirect('scheduled', notice: "Cancelled #{items.size} scheduled job(s)")
      end

      # Job ids to cancel: the Jobs page's per-job buttons and its "cancel by id" field
      # (an enqueued job is not listed: its id comes from the app's logs or records).
      def selected_job_ids
        raise ArgumentError, Actions::CANCELS_OFF unless Actions.cancels?

        ids = (Array(@request.POST['items']) + [@request.POST['job_id']]).map { |id| id.to_s.strip }
        ids = ids.reject(&:empty?).uniq
        raise ArgumentError, 'give at least one job id' if ids.empty?

        ids
      end

      def confirm_job_cancels
        page('confirm', { action_path: 'jobs/apply', title: 'Cancel jobs', fields: {}, items: selected_job_ids,
                          describe: ->(id) { "job #{id}" }, back: url('jobs') })
      end

      def apply_job_cancels
        ids = selected_job_ids
        ids.each { |id| Actions.cancel_job(id) }
        redirect('jobs', notice: "Cancelled #{ids.size} job(s): skipped unless already started (a running one sees cancelled?)")
      end

      def url(path, params = {})
        "#{@request.script_name}/#{path}#{params.empty? ? '' : "?#{URI.encode_www_form(params)}"}"
      end

      # 303: the browser GETs the page after the POST (a reload does not repeat the action).
      def redirect(path, params)
        [303, { 'location' => url(path, params), 'content-type' => 'text/plain' }, ['See Other']]
      end

      def not_found
        [404, { 'content-type' => 'text/plain' }, ['Not Found']]
      end

      def forbidden
        [403, { 'content-type' => 'text/plain' },
         ['Forbidden: the form token is missing or stale (reload the page and try again)']]
      end
    end
  end
end
