# frozen_string_literal: true

require 'spec_helper'
require_relative '../lib/karafka/web/web_helper'

# The dashboard against the real broker: a `karafka server` child with Web enabled reports to
# the Web topics, this process renders the pages from them (Rack::MockRequest) and acts.
RSpec.describe 'Karafka::Web dashboard' do
  include WebScenario

  before(:all) do
    # Back-offs long enough to be seen in a report (one a second) on Topics.
    @web = start_web_scenario(pause_timeout: 3_000)
    Karafka::Web.config.ui.long_running_after = 1
    @pid = @web[:server].instance_variable_get(:@pid)
    @evil = '<script>alert(1)</script>'
    enqueue_job(RecordingJob, 'plain', @evil)
    @flaky = enqueue_job(FlakyJob, "flaky#{@evil}", 2) # fails twice: dead-lettered (max_retries 1)
  end

  after(:all) { stop_web_scenario(@web) }

  def enqueue_job(klass, *args)
    job = job_for(@web[:topic], klass, *args)
    job.enqueue
    Karafka.producer.flush
    job
  end

  def wait_for_page(path, text, timeout: 30)
    wait_until(timeout: timeout, message: -> { "#{path} to show #{text}; page: #{get(path).body[/<main>.*/m]}" }) do
      page = get(path)
      page if page.status == 200 && page.body.include?(text)
    end
  end

  def dead_letter_row(body, job_id)
    body.split('<tr class="dead-letter"').find { |row| row.include?(%(data-job-id="#{job_id}")) }
  end

  it 'lets `karafka topics migrate` create the Web topics with karafka-web retention settings' do
    names = Karafka::Web.topic_names
    expect(Karafka::Admin.topic_config(names[:states])['cleanup.policy'][:value]).to eq('compact')
    expect(Karafka::Admin.topic_config(names[:reports])['retention.ms'][:value]).to eq('86400000')
    expect(Karafka::Admin.topic_config(names[:errors])['retention.ms'][:value]).to eq('259200000')
    expect(Karafka::Admin.topic_config(names[:dlq_actions])['cleanup.policy'][:value]).to eq('compact')
  end

  it 'shows the running server on Processes, with its pid, threads and assigned partition' do
    page = wait_for_page('/processes', "#{@web[:topic]}/0") # assigned after the first report
    row = page.body.split('<tr>').find { |tr| tr.include?(%(<td class="num">#{@pid}</td>)) }
    expect(row).to include('running', '/ 2</td>', "#{@web[:topic]}/0", '<span class="tag">commit:#4f04502</span>')
  end

  it 'shows totals, lag and workers on the Dashboard once jobs ran' do
    wait_until(message: 'the plain job to run') { records_in(@web[:output], 'plain').any? }
    page = wait_until(message: -> { "a processed count; log:\n#{@web[:server].log}" }) do
      body = get('/').body
      body if body.match?(%r{<td class="num">[1-9]\d*</td>})
    end
    expect(page).to include('id="total-lag"', 'Workers busy / idle', 'Processes<strong id="processes-count">1<')
  end

  it 'draws the rates as an inline SVG chart once there are reports' do
    page = wait_for_page('/', '<svg class="chart"')
    expect(page.body).to include('<polyline', 'processed', 'dead-lettered')
    expect(page.body).not_to match(/<script[^>]+src=/) # no CDN, no external script
  end

  it 'lists a job running now on Jobs, highlighted once it runs long' do
    slow = enqueue_job(RecordingJob, 'slow', 'x', 4_000)
    page = wait_for_page('/jobs', slow.job_id)
    expect(page.body).to include('RecordingJob', %(&quot;slow&quot;), "#{@web[:topic]}/0/")
    long = wait_until(message: 'the slow job highlighted') do
      get('/jobs').body.split('<tr').find { |row| row.include?(slow.job_id) && row.include?('class="long"') }
    end
    expect(long).to include('RecordingJob')
  end

  it "shows each partition's high watermark, committed offset, lag and owner on Topics" do
    wait_until(message: 'the slow job to finish') { records_in(@web[:output], 'slow').any? }
    high = Karafka::Admin.watermark_offsets(@web[:topic], 0).last
    row = wait_until(message: -> { "no lag on #{@web[:topic]}: #{get('/topics').body[/<table id="topics">.*/m]}" }) do
      get('/topics').body.split('<tr>').find do |tr|
        tr.include?("<td>#{@web[:topic]}</td>") && tr.include?(%(<td class="num lag">0</td>))
      end
    end
    expect(row).to include(%(<td class="num">#{high}</td>), @web[:group], Socket.gethostname)
  end

  it 'shows a partition as paused on Topics while it backs off after a failed job, and not once it moved on' do
    offset = Karafka::Admin.watermark_offsets(@web[:topic], 0).last
    enqueue_job(FailingJob, 'backs-off')
    paused = "paused: offset #{offset}, attempt 1"
    wait_until(timeout: 60, message: -> { "Topics to show #{paused}: #{get('/topics').body[/<table id="topics">.*/m]}" }) do
      get('/topics').body.split('<tr>').any? { |tr| tr.include?("<td>#{@web[:topic]}</td>") && tr.include?(paused) }
    end
    # Dead-lettered after its one retry: the partition moves on.
    wait_until(timeout: 60, message: -> { "Topics to show the partition unpaused: #{get('/topics').body[/<table id="topics">.*/m]}" }) do
      get('/topics').body.split('<tr>').any? do |tr|
        tr.include?("<td>#{@web[:topic]}</td>") && tr.include?('<td class="paused">no</td>')
      end
    end
  end

  it 'shows job errors with class, message, job class and id and attempts, HTML-escaped' do
    page = wait_for_page('/errors', 'FixtureError')
    expect(page.body).to include('FlakyJob', @flaky.job_id, 'attempt 1 of flaky&lt;script&gt;alert(1)&lt;/script&gt; fails')
    expect(page.body).not_to include(@evil)
  end

  it 'escapes job arguments everywhere (Dead letters shows them)' do
    page = wait_for_page('/dead_letters', @flaky.job_id)
    expect(page.body).to include('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page.body).not_to include(@evil)
  end

  it 'refuses a POST without a valid CSRF token and changes nothing' do
    wait_for_page('/dead_letters', @flaky.job_id)
    params = [['topic', @web[:dlq]], ['item_action', 'retry:0/0']]
    expect(post('/dead_letters/apply', params, session: { cookie: '', token: '' }).status).to eq(403)
    forged = browser_session.merge(token: 'f' * 64)
    expect(post('/dead_letters/apply', params, session: forged).status).to eq(403)
    expect(Karafka::Admin.watermark_offsets(Karafka::Web.topic_names[:dlq_actions], 0).last).to eq(0)
  end

  it 'retries a dead letter after a confirmation: the job runs again from its source topic' do
    page = wait_for_page('/dead_letters', @flaky.job_id)
    row = dead_letter_row(page.body, @flaky.job_id)
    item = row[%r{value="retry:(\d+/\d+)"}, 1]
    expect(row).to include('pending', "#{@web[:topic]}/0/", 'FixtureError')

    confirm = post('/dead_letters/confirm', [['topic', @web[:dlq]], ['item_action', "retry:#{item}"]])
    expect(confirm.status).to eq(200)
    expect(confirm.body).to include('Retry dead letters?', "#{@web[:dlq]}/#{item}")
    expect(records_in(@web[:output], "flaky#{@evil}").size).to eq(2), 'nothing ran before the confirmation'

    done = post('/dead_letters/apply', [['topic', @web[:dlq]], ['action_name', 'retry'], ['items[]', item]])
    expect(done.status).to eq(303)
    wait_until(message: -> { "the retried job to run; log:\n#{@web[:server].log}" }) do
      records_in(@web[:output], "flaky#{@evil}").any? { |record| record['ok'] }
    end
    expect(dead_letter_row(get('/dead_letters').body, @flaky.job_id)).to include('retried')

    high = Karafka::Admin.watermark_offsets(@web[:topic], 0).last
    again = post('/dead_letters/apply', [['topic', @web[:dlq]], ['action_name', 'retry'], ['items[]', item]])
    expect([again.status, again.body]).to match([422, include('already handled')])
    expect(Karafka::Admin.watermark_offsets(@web[:topic], 0).last).to eq(high), 'not produced again'
  end

  it 'skips dead letters in bulk: marked handled, not run' do
    doomed = enqueue_job(FailingJob, 'doomed')
    page = wait_for_page('/dead_letters', doomed.job_id, timeout: 60)
    item = dead_letter_row(page.body, doomed.job_id)[%r{value="skip:(\d+/\d+)"}, 1]
    runs = records_in(@web[:output], 'doomed').size

    confirm = post('/dead_letters/confirm', [['topic', @web[:dlq]], ['action_name', 'skip'], ['items[]', item]])
    expect(confirm.body).to include('Skip dead letters?')
    done = post('/dead_letters/apply', [['topic', @web[:dlq]], ['action_name', 'skip'], ['items[]', item]])
    expect(done.status).to eq(303)
    expect(dead_letter_row(get('/dead_letters').body, doomed.job_id)).to include('skipped')
    expect(records_in(@web[:output], 'doomed').size).to eq(runs)
  end

  it 'lists pending schedules and cancels one with a tombstone for its key' do
    job = job_for(@web[:topic], RecordingJob, 'later')
    target = { topic: @web[:topic], payload: JSON.generate(job.serialize) }
    envelope = Karafka::ActiveJob::Schedule.envelope(target, @web[:schedules], Time.now.to_f + 3600)
    Karafka.producer.produce_sync(envelope)
    page = wait_for_page('/scheduled', job.job_id)
    item = "#{@web[:schedules]}/0/#{envelope[:key]}"
    expect(page.body).to include('RecordingJob', envelope[:key], 'in 59 min')

    expect(post('/scheduled/confirm', [['items[]', item]]).body).to include('Cancel scheduled jobs?', item)
    expect(post('/scheduled/apply', [['items[]', item]]).status).to eq(303)
    expect(get('/scheduled').body).not_to include(job.job_id)
    last = Karafka::Admin.read_topic(@web[:schedules], 0, 1).last
    expect([last.key, last.raw_payload]).to eq([envelope[:key], nil])
  end

  it 'shows routes and settings on Routing with secrets redacted' do
    Karafka::App.config.kafka[:'sasl.password'] = 'hunter2'
    body = get('/routing').body
    expect(body).to include(@web[:topic], @web[:dlq], @web[:schedules], 'sasl.password', '[FILTERED]')
    expect(body).not_to include('hunter2')
  ensure
    Karafka::App.config.kafka.delete(:'sasl.password')
  end

  it 'answers 404 for unknown pages and 405 for other methods' do
    expect(get('/nope').status).to eq(404)
    expect(Rack::MockRequest.new(Karafka::Web::App).put('/').status).to eq(405)
  end

  it 'publishes a last "stopped" report when the server stops' do
    expect(@web[:server].stop.exitstatus).to eq(0)
    row = wait_until(message: 'the stopped state') do
      get('/processes').body.split('<tr>').find { |tr| tr.include?(%(<td class="num">#{@pid}</td>)) && tr.include?('stopped') }
    end
    expect(row).to include('stopped')
  end
end
