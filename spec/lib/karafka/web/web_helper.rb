# frozen_string_literal: true

require 'rack'
require 'rack/mock'

# A karafka server child with Karafka::Web enabled, and this process configured as the
# dashboard of the same app (same routes, group and Web topic names).
module WebScenario
  BOOT_FILE = File.expand_path('fixtures/karafka.rb', __dir__)

  # @return [Hash] :topic, :dlq, :schedules, :group, :prefix, :output, :server
  # @param env [Hash] more environment for the server; a block may configure this process
  #   (the dashboard) before the topics are migrated
  # @param pause_timeout [Integer] ms a partition backs off after a failed job
  def start_web_scenario(concurrency: 2, pause_timeout: 200, env: {})
    scenario = { prefix: "web_#{SecureRandom.hex(4)}", group: unique_group('web'),
                 topic: create_topic('web-jobs'), dlq: create_topic('web-dead'), schedules: create_topic('web-sched'),
                 output: File.join(Dir.tmpdir, "web-#{SecureRandom.hex(4)}.jsonl") }
    configure_web_app(scenario)
    yield scenario if block_given?
    migrate_topics
    scenario[:server] = ServerProcess.new(
      topics: [scenario[:topic]], group: scenario[:group], output: scenario[:output], concurrency: concurrency,
      env: { 'KARAFKA_BOOT_FILE' => BOOT_FILE, 'SPEC_WEB_PREFIX' => scenario[:prefix],
             'SPEC_DLQ' => "#{scenario[:dlq]}:1:false", 'SPEC_SCHEDULES' => scenario[:schedules],
             'SPEC_PAUSE_TIMEOUT' => pause_timeout.to_s }.merge(env)
    ).start
    scenario
  end

  # The spec process as the dashboard: the server's routes and group, the Web topic names.
  def configure_web_app(scenario)
    configure_spec_app
    Karafka::App.config.group_id = scenario[:group]
    Karafka::App.routes.draw do
      scheduled_messages(scenario[:schedules])
      active_job_topic(scenario[:topic]) { dead_letter_queue(topic: scenario[:dlq], max_retries: 1) }
    end
    Karafka::Web.reset!
    Karafka::Web.setup do |config|
      config.topics.consumers.states.name = "#{scenario[:prefix]}_consumers_states"
      config.topics.consumers.reports.name = "#{scenario[:prefix]}_consumers_reports"
      config.topics.errors.name = "#{scenario[:prefix]}_errors"
      config.topics.dlq_actions.name = "#{scenario[:prefix]}_dlq_actions"
      config.tracking.interval = 1_000
      config.ui.sessions.secret = 'spec-secret'
    end
    Karafka::Web.enable!
  end

  # `karafka topics migrate`'s own code, with this process' routes and Web enabled.
  def migrate_topics
    cli = Karafka::Cli::Topics.new
    cli.instance_variable_set(:@admin, Karafka::Admin.new)
    cli.migrate
  end

  def stop_web_scenario(scenario)
    scenario&.fetch(:server, nil)&.ensure_stopped
    Karafka::Web.reset!
    configure_spec_app
  end

  # @return [Rack::MockResponse]
  def get(path)
    Rack::MockRequest.new(Karafka::Web::App).get(path, 'SCRIPT_NAME' => '/karafka')
  end

  # A POST as a browser sends it: the cookie and form token of a page it loaded first.
  def post(path, params, session: browser_session)
    Rack::MockRequest.new(Karafka::Web::App).post(
      path, 'SCRIPT_NAME' => '/karafka', 'HTTP_COOKIE' => session[:cookie],
            input: URI.encode_www_form(params.to_a + [['csrf', session[:token]]]),
            'CONTENT_TYPE' => 'application/x-www-form-urlencoded'
    )
  end

  # @return [Hash] :cookie and :token as a first visit to a page with forms gives them
  def browser_session
    page = get('/dead_letters')
    cookie = page.headers['set-cookie'].to_s[/\Akarafka_web_csrf=\h+/]
    token = page.body[/name="csrf" value="(\h+)"/, 1]
    raise "no CSRF cookie/token in the page: #{page.status} #{page.body[0, 300]}" unless cookie && token

    { cookie: cookie, token: token }
  end

  def records_in(output, id)
    JobRecorder.read(output).select { |record| record['id'] == id }
  end
end
