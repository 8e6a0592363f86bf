# frozen_string_literal: true

require 'spec_helper'

# The adapter's side of Rails 8.1 ActiveJob Continuation (Rails 8.1 needs Ruby >= 3.2, which
# is not available here): `stopping?` turns true when the server shuts down, the job
# re-enqueues itself with its cursor and resume wait, and it resumes after a restart.
RSpec.describe 'Continuation across a shutdown' do
  let(:topic) { create_topic('continuation', partitions: 1) }
  let(:schedules) { create_topic('continuation-schedules') }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "continuation-#{SecureRandom.hex(4)}.jsonl") }
  let(:servers) { [] }

  after { servers.each(&:ensure_stopped) }

  def start_server
    ServerProcess.new(topics: [topic], group: group, output: output,
                      env: { 'SPEC_SCHEDULES' => schedules }).start.tap { |s| servers << s }
  end

  def steps(id)
    JobRecorder.read(output).select { |r| r['id'] == id && r['step'] }.map { |r| r['step'] }
  end

  [0, 2].each do |resume_wait|
    it "resumes from its cursor after SIGTERM (resume wait #{resume_wait} s)" do
      id = "import-#{resume_wait}"
      ContinuableStepsJob.karafka_options(scheduled_messages_topic: schedules)
      job_for(topic, ContinuableStepsJob, id, 0, 150, resume_wait).enqueue
      Karafka.producer.flush

      first = start_server
      wait_until(message: -> { "some steps; log:\n#{first.log[-2500..]}" }) { steps(id).size >= 20 }
      expect(first.stop('TERM').exitstatus).to eq(0)
      interrupted = JobRecorder.read(output).find { |r| r['interrupted_at'] }
      expect(interrupted).not_to be_nil

      start_server
      wait_until(timeout: 60, message: -> { "all steps, got #{steps(id).size}" }) { steps(id).size >= 150 }
      expect(steps(id)).to eq((0...150).to_a)
      resumed = JobRecorder.read(output).find { |r| r['step'] == interrupted['interrupted_at'] }
      expect(resumed['at'] - interrupted['at']).to be >= resume_wait
    end
  end
end
