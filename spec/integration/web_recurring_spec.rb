# frozen_string_literal: true

require 'spec_helper'
require_relative '../lib/karafka/web/web_helper'

# The dashboard's Recurring page (Rack::MockRequest) against the real broker: it shows the
# routes' tasks with the state topic's view of them, and its buttons write the same command
# records as `karafka recurring`, behind a confirmation and the CSRF token.
RSpec.describe 'Karafka::Web recurring page', skip: FUGIT_MISSING do
  include WebScenario

  let(:state_topic) { "web-recurring-#{SecureRandom.hex(4)}" }
  let(:evil) { '<script>alert(1)</script>' }

  before do
    configure_spec_app
    Karafka::App.config.recurring_tasks.topics.schedules = state_topic
    description = evil
    Karafka::App.routes.draw do
      recurring_tasks do
        schedule(id: 'cleanup', cron: '*/5 * * * *', description: description) { nil }
        schedule(id: 'report', cron: '0 9 * * * Europe/Paris', enabled: false) { nil }
      end
    end
    Karafka::Web.reset!
    Karafka::Web.setup { |config| config.ui.sessions.secret = 'spec-secret' }
    Karafka::Web.enable!
    Karafka::Admin.create_topic(state_topic, 1, 1, { 'cleanup.policy': 'compact' })
  end

  after do
    Karafka::Admin.delete_topic(state_topic)
    Karafka::Web.reset!
    configure_spec_app
  end

  # @return [Array<Array(String, Hash)>] key and record of every command on the state topic
  def commands
    Karafka::Admin.read_topic(state_topic, 0, 100, 0).map { |message| [message.raw_key, JSON.parse(message.raw_payload)] }
  end

  # The cookie and form token of a first visit to this page (its rows have forms).
  def browser_session
    page = get('/recurring')
    { cookie: page.headers['set-cookie'].to_s[/\Akarafka_web_csrf=\h+/], token: page.body[/name="csrf" value="(\h+)"/, 1] }
  end

  def row(body, id)
    body.split('<tr class="recurring-task"').find { |part| part.include?(%(data-task-id="#{id}")) }
  end

  it 'lists the tasks with their schedule and enabled state, descriptions escaped' do
    page = get('/recurring')
    expect(page.status).to eq(200)
    expect(row(page.body, 'cleanup')).to include('<code>*/5 * * * *</code>', '>yes<', 'disable:cleanup')
    expect(row(page.body, 'report')).to include('<code>0 9 * * * Europe/Paris</code>', '>no<', 'enable:report')
    expect(page.body).not_to include(evil)
    expect(page.body).to include(ERB::Util.html_escape(evil))
  end

  it 'disables a task after a confirmation, with a command record on the state topic' do
    confirm = post('/recurring/confirm', [%w[item_action disable:cleanup]])
    expect(confirm.status).to eq(200)
    expect(confirm.body).to include('Disable recurring task(s)?', 'value="disable:cleanup"')
    expect(commands).to be_empty

    applied = post('/recurring/apply', [%w[item_action disable:cleanup]])
    expect(applied.status).to eq(303)
    expect(commands.map { |key, record| [key, record['enabled']] }).to eq([['enabled:cleanup', false]])
    expect(row(get('/recurring').body, 'cleanup')).to include('>no<', 'enable:cleanup')
  end

  it 'triggers a task, and refuses POSTs without a valid CSRF token or for unknown tasks' do
    expect(post('/recurring/apply', [%w[item_action trigger:report]], session: { cookie: '', token: '' }).status).to eq(403)
    expect(post('/recurring/apply', [%w[item_action trigger:nope]]).status).to eq(422)
    expect(post('/recurring/apply', [%w[item_action destroy:report]]).status).to eq(422)
    expect(commands).to be_empty

    expect(post('/recurring/apply', [%w[item_action trigger:report]]).status).to eq(303)
    expect(commands.map(&:first)).to eq(['trigger:report'])
  end
end
