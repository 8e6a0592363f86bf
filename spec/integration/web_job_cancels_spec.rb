# frozen_string_literal: true

require 'spec_helper'
require_relative '../lib/karafka/web/web_helper'

# The dashboard's Jobs page with cancelling and deadlines on: `karafka topics migrate` creates
# the cancels topic, an overdue job is marked, and a job is cancelled by id (POST + CSRF,
# after a confirmation) and then skipped by the server.
RSpec.describe 'Karafka::Web job cancels and overdue jobs' do
  include WebScenario

  let(:cancels) { "web_cancels_#{SecureRandom.hex(4)}" }

  after do
    stop_web_scenario(@web)
    Karafka::App.config.active_job.cancels_topic = nil
  end

  def records(kind)
    JobRecorder.read(@web[:output]).select { |record| record['kind'] == kind }
  end

  def wait_for_page(path, text)
    wait_until(message: -> { "#{path} to show #{text}; page: #{get(path).body[/<main>.*/m]}" }) do
      page = get(path)
      page if page.status == 200 && page.body.include?(text)
    end
  end

  it 'marks an overdue job, cancels an enqueued job and the running one after a confirmation; the server skips the one and stops the other' do
    env = { 'SPEC_CANCELS' => cancels, 'SPEC_FEATURE_EVENTS' => '1', 'SPEC_DEADLINE' => '0.3' }
    @web = start_web_scenario(env: env) { Karafka::App.config.active_job.cancels_topic = cancels }
    expect(Karafka::Admin.topic_config(cancels)['cleanup.policy']).to include(value: 'compact,delete')
    slow = job_for(@web[:topic], CancellableJob, 'slow').tap(&:enqueue)
    behind = job_for(@web[:topic], CancelRaceJob, 'behind').tap(&:enqueue)
    Karafka.producer.flush

    page = wait_for_page('/jobs', 'overdue</strong>')
    expect(page.body).to include(slow.job_id, %(name="items[]" value="#{slow.job_id}"), 'name="job_id"')
    expect(post('/jobs/apply', [['job_id', behind.job_id]], session: { cookie: '', token: '' }).status).to eq(403)
    confirm = post('/jobs/confirm', [['job_id', behind.job_id]])
    expect(confirm.body).to include('Cancel jobs?', "job #{behind.job_id}")
    expect(records('cancelled')).to be_empty, 'nothing cancelled before the confirmation'
    expect(post('/jobs/apply', [['items[]', behind.job_id]]).status).to eq(303)
    # The running job's own button, after the first cancel: once it sees cancelled?, the
    # server has read the cancel of the job behind it too.
    expect(post('/jobs/apply', [['items[]', slow.job_id]]).status).to eq(303)

    wait_until(message: -> { @web[:server].log[-3000..] }) { records('cancelled').any? }
    expect(records('finished')).to contain_exactly(include('job_id' => slow.job_id, 'cancelled' => true))
    expect(records('cancelled').map { |r| r['job_id'] }).to eq([behind.job_id])
    expect(records('ran')).to be_empty
  end

  it 'says cancelling is off when no cancels topic is set' do
    @web = start_web_scenario
    expect(get('/jobs').body).not_to include('name="job_id"')
    expect(post('/jobs/confirm', [['job_id', 'x']]).body).to include('cancelling is off')
  end
end
