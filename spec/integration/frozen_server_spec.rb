# frozen_string_literal: true

require 'spec_helper'

# Issue 12, defect 5: a server frozen (SIGSTOP) past its session timeout has lost its
# partitions to another server; when it resumes it must not start the jobs still in its
# buffers - the new owner runs them - before it has learnt whether it still owns them.
RSpec.describe 'A server frozen past its session timeout' do
  let(:topic) { create_topic('frozen', partitions: 2) }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "frozen-#{SecureRandom.hex(4)}.jsonl") }
  let(:ids) { Array.new(2500) { |i| "job-#{i}" } }
  let(:kafka) { 'session.timeout.ms=6000,heartbeat.interval.ms=2000' }

  after do
    [@frozen, @other].each { |server| server&.ensure_stopped }
  end

  def server
    ServerProcess.new(topics: [topic], group: group, output: output, concurrency: 2,
                      env: { 'SPEC_KAFKA' => kafka }).start
  end

  def runs_by(pid)
    JobRecorder.read(output).select { |r| r['pid'] == pid }
  end

  it 'starts no job it no longer owns when it resumes, and no job runs twice at once' do
    ActiveJob.perform_all_later(ids.map { |id| job_for(topic, RecordingJob, id, nil, 20) })
    expect(Karafka.producer.flush(30_000)).to be(true)
    @frozen = server
    wait_until(timeout: 60, message: -> { "the first server at work; log:\n#{@frozen.log[-2000..]}" }) do
      runs_by(@frozen.pid).size >= 100
    end

    frozen_at = JobRecorder.now
    Process.kill('STOP', @frozen.pid)
    begin
      @other = server
      wait_until(timeout: 60, message: -> { "the other server takes over; log:\n#{@other.log[-2000..]}" }) do
        runs_by(@other.pid).size >= 50
      end
    ensure
      resumed_at = JobRecorder.now
      Process.kill('CONT', @frozen.pid)
    end

    wait_until(timeout: 120, message: -> { "every job; logs:\n#{@frozen.log[-2000..]}\n#{@other.log[-2000..]}" }) do
      (ids - JobRecorder.read(output).map { |r| r['id'] }).empty?
    end
    expect(@frozen.stop('TERM').exitstatus).to eq(0)
    expect(@other.stop('TERM').exitstatus).to eq(0)

    records = JobRecorder.read(output)
    # A job the frozen server had already started (claimed by a worker) when it froze finishes
    # after the resume, while the new owner may have run it meanwhile: nothing can prevent that
    # one. The server names those jobs when it notices the gap; they are left out below.
    already_running = @frozen.log.scan(%r{already running[^:]*: ((?:[^/\s,]+/\d+/\d+(?:, )?)+)}).flatten
                             .flat_map { |list| list.split(', ') }
    in_progress = lambda do |r|
      r['pid'] == @frozen.pid &&
        ((r['started'] < frozen_at && r['finished'] > frozen_at) || already_running.include?(r['provider_job_id']))
    end
    by_other = records.select { |r| r['pid'] == @other.pid }.to_h { |r| [r['id'], r] }
    # The other server finished these before the resume (and committed them within one
    # commit interval): the frozen one can only have run them from its stale buffer.
    stale = records.reject(&in_progress).select do |r|
      r['pid'] == @frozen.pid && r['started'] >= resumed_at && (other = by_other[r['id']]) &&
        other['finished'] < resumed_at
    end
    expect(stale.map { |r| r['id'] }).to eq([]), lambda {
      "started again after the resume (s after it): #{stale.map { |r| [r['id'], r['started'] - resumed_at] }.first(10)}\n" \
        "#{@frozen.log.lines.grep_v(/performed|enqueued/i).last(30).join}"
    }
    records.reject(&in_progress).group_by { |r| r['id'] }.each do |id, runs|
      runs.sort_by { |r| r['started'] }.each_cons(2) do |a, b|
        expect(b['started']).to be >= a['finished'], lambda {
          at = ->(r) { "pid #{r['pid']} #{r['provider_job_id']} #{(r['started'] - frozen_at).round(4)}..#{(r['finished'] - frozen_at).round(4)}" }
          "#{id} ran twice at once (s after the freeze; resumed at #{(resumed_at - frozen_at).round(4)}): " \
            "#{at[a]} and #{at[b]}; frozen (pid #{@frozen.pid}):\n#{@frozen.log.lines.grep(/ownership|did not run|revoked|assigned/i).last(10).join}"
        }
      end
    end
    expect(@frozen.log).to include('consumer.ownership').or include('did not run for')
  end
end
