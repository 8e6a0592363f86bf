# frozen_string_literal: true

require 'spec_helper'
require 'open3'
require 'rbconfig'
require 'socket'

# A process that enqueues async jobs and exits: what librdkafka still holds is delivered by
# the flush at exit, and what cannot be delivered is reported loudly, never dropped in silence.
RSpec.describe 'Async jobs at process exit' do
  let(:lib) { File.expand_path('../../lib', __dir__) }

  # A loopback port nothing listens on: every connection is refused, as with a broker down.
  def closed_port
    server = TCPServer.new('127.0.0.1', 0)
    server.addr[1].tap { server.close }
  end

  # Runs a child that enqueues `count` ProbeJobs with perform_later and ends with `ending`.
  # Its job ids go to stdout; its error.occurred events to stderr as "EVENT type job_id".
  def run_child(bootstrap:, count:, topic: 'exit-probe', kafka: {}, env: {}, ending: '')
    script = <<~RUBY
      require 'active_job'
      require 'karafka'
      class ProbeJob < ActiveJob::Base
        def perform(*); end
      end
      ActiveJob::Base.queue_adapter = :karafka
      ActiveJob::Base.logger = Logger.new(nil)
      Karafka::App.setup do |config|
        config.kafka = { 'bootstrap.servers': #{bootstrap.inspect} }.merge(#{kafka.inspect})
        config.logger = Logger.new($stderr)
      end
      Karafka.producer.monitor.subscribe('error.occurred') do |event|
        $stderr.puts "EVENT \#{event[:type]} \#{event[:job_id]}"
      end
      #{count}.times { |i| puts ProbeJob.set(queue: #{topic.inspect}).perform_later(i).job_id }
      #{ending}
    RUBY
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    out, err, status = Open3.capture3(env, RbConfig.ruby, '-I', lib, '-e', script)
    [out.split("\n"), err, status, Process.clock_gettime(Process::CLOCK_MONOTONIC) - started]
  end

  def lost_line(err)
    err.lines.find { |line| line.include?('NOT DELIVERED') }
  end

  context 'with the broker unreachable' do
    it 'reports every job it gives up on at the flush bound, and exits non-zero' do
      ids, err, status, took = run_child(bootstrap: "127.0.0.1:#{closed_port}", count: 1_000,
                                         env: { 'KARAFKA_EXIT_FLUSH_TIMEOUT_MS' => '1500' })

      expect(status.exitstatus).to eq(1)
      expect(took).to be < 15
      line = lost_line(err)
      expect(line).to include('1000 async message(s) NOT DELIVERED', 'ProbeJob x1000')
      expect(line).to include(*ids.first(20))
      expect(line).to include('(980 more)')
      events = err.scan(/^EVENT (\S+) (\S+)$/)
      expect(events.map(&:first).uniq).to eq(['librdkafka.dispatch_error'])
      expect(events.map(&:last)).to match_array(ids)
    end

    it 'reports jobs whose message.timeout.ms ran out during the flush the same way' do
      ids, err, status, = run_child(bootstrap: "127.0.0.1:#{closed_port}", count: 50,
                                    kafka: { 'message.timeout.ms': 500 })

      expect(status.exitstatus).to eq(1)
      expect(lost_line(err)).to include('50 async message(s) NOT DELIVERED', 'ProbeJob x50', 'msg_timed_out x50')
      expect(err.scan(/^EVENT librdkafka.dispatch_error (\S+)$/).flatten).to match_array(ids)
    end

    it 'keeps the exit status of a process that was failing anyway' do
      _, err, status, = run_child(bootstrap: "127.0.0.1:#{closed_port}", count: 5, ending: 'exit 3',
                                  env: { 'KARAFKA_EXIT_FLUSH_TIMEOUT_MS' => '500' })

      expect(status.exitstatus).to eq(3)
      expect(lost_line(err)).to include('5 async message(s) NOT DELIVERED')
    end
  end

  it 'delivers everything and exits 0 quietly when the broker is there' do
    topic = create_topic('exit-ok')
    ids, err, status, = run_child(bootstrap: SpecKafka.bootstrap, count: 200, topic: topic)

    expect(status.exitstatus).to eq(0), err
    expect(lost_line(err)).to be_nil
    expect(err).not_to include('EVENT')
    stored = Karafka::Admin.read_topic(topic, 0, 200).map { |m| JSON.parse(m.raw_payload)['job_id'] }
    expect(stored).to match_array(ids)
  end
end
