# frozen_string_literal: true

require 'spec_helper'
require 'net/http'

# The probe listeners in this process, driven by their events, answering over real HTTP. The
# server-level behaviour is in spec/integration/probes_spec.rb.
RSpec.describe 'Karafka::Instrumentation::Vendors::Kubernetes listeners' do
  kubernetes = Karafka::Instrumentation::Vendors::Kubernetes

  let(:port) do
    server = TCPServer.new('127.0.0.1', 0)
    server.addr[1]
  ensure
    server&.close
  end
  let(:event) { Karafka::Instrumentation::Monitor::Event.new('test', {}) }

  after do
    @listener&.on_app_stopped(event)
    Karafka::App.state = :initializing
  end

  def get(path = '/')
    response = Net::HTTP.start('127.0.0.1', port, open_timeout: 2, read_timeout: 5) { |http| http.get(path) }
    [response.code.to_i, JSON.parse(response.body)]
  rescue Errno::ECONNREFUSED
    nil
  end

  def running(listener)
    @listener = listener
    Karafka::App.state = :running
    listener.on_app_running(event)
    listener
  end

  describe kubernetes::LivenessListener do
    it "has Karafka's keyword arguments and defaults" do
      parameters = described_class.instance_method(:initialize).parameters
      # Karafka's, plus karafka-rs' optional overdue_grace (job deadlines).
      expect(parameters).to eq([%i[key hostname], %i[key port], %i[key consuming_ttl], %i[key polling_ttl],
                                %i[key overdue_grace]])
      expect(described_class.new.instance_variable_get(:@consuming_ttl)).to eq(300_000)
      expect(described_class.new.instance_variable_get(:@polling_ttl)).to eq(300_000)
    end

    it 'binds only when the app runs, and stops answering when it stopped' do
      listener = described_class.new(hostname: '127.0.0.1', port: port)
      expect(get).to be_nil
      running(listener)
      expect(get).to match([200, include('status' => 'healthy', 'port' => port, 'process_id' => Process.pid)])
      listener.on_app_stopped(event)
      expect(get).to be_nil
    end

    it 'answers 500 naming polling_ttl_exceeded when the loop stops polling, 200 once it polls again' do
      listener = running(described_class.new(hostname: '127.0.0.1', port: port, polling_ttl: 300))
      ticks = Queue.new
      done = Queue.new
      loop_thread = Thread.new { while ticks.pop; listener.on_connection_listener_fetch_loop(event); done << true; end }
      poll = -> { ticks << true; done.pop }
      poll.call
      expect(get.first).to eq(200)
      status, body = wait_until(timeout: 5) { (r = get) && r.first == 500 && r }
      expect(status).to eq(500)
      expect(body['errors']).to eq('polling_ttl_exceeded' => true, 'consumption_ttl_exceeded' => false,
                                   'unrecoverable' => false)
      Thread.new { listener.on_connection_listener_fetch_loop(event) }.join
      expect(get.first).to eq(500) # another thread's tick does not excuse the stalled loop
      poll.call
      expect(get.first).to eq(200)
    ensure
      ticks&.close
      loop_thread&.join
    end

    it 'is healthy again when the stuck job finishes or fails' do
      listener = running(described_class.new(hostname: '127.0.0.1', port: port, consuming_ttl: 200))
      listener.on_consumer_consume(event)
      wait_until(timeout: 5) { get&.first == 500 }
      expect(get.last['errors']).to include('consumption_ttl_exceeded' => true)
      listener.on_consumer_consumed(event)
      expect(get.first).to eq(200)
      listener.on_consumer_consume(event)
      wait_until(timeout: 5) { get&.first == 500 }
      listener.on_error_occurred(Karafka::Instrumentation::Monitor::Event.new('error.occurred',
                                                                              { error: StandardError.new('job') }))
      expect(get.first).to eq(200)
    end

    it 'is unhealthy for good after a fatal librdkafka error, not after an ordinary one' do
      listener = running(described_class.new(hostname: '127.0.0.1', port: port))
      error = lambda do |message|
        Karafka::Instrumentation::Monitor::Event.new('error.occurred', { type: 'librdkafka.error',
                                                                         error: Karafka::Errors::BaseError.new(message) })
      end
      listener.on_error_occurred(error.call('Message consumption error: BrokerTransportFailure (Local: Broker transport failure)'))
      expect(get.first).to eq(200)
      listener.on_error_occurred(error.call('(Fatal) Message consumption error: Broker: Static consumer fenced by ' \
                                            'other consumer with same group.instance.id'))
      expect(get).to match([500, include('errors' => include('unrecoverable' => 'fatal'))])
      listener.on_connection_listener_fetch_loop(event)
      expect(get.first).to eq(500) # for good
    end
  end

  describe kubernetes::ReadinessListener do
    it 'is not ready until the loop polled, ready while running, not ready while stopping' do
      listener = running(described_class.new(hostname: '127.0.0.1', port: port))
      expect(get).to match([503, include('ready' => false, 'polled' => false)])
      listener.on_connection_listener_fetch_loop(event)
      expect(get).to match([200, include('status' => 'healthy', 'ready' => true, 'state' => 'running')])
      Karafka::App.state = :stopping
      listener.on_app_stopping(event)
      expect(get).to match([503, include('ready' => false, 'state' => 'stopping')])
      listener.on_app_stopped(event)
      expect(get).to be_nil
    end
  end

  describe kubernetes::SwarmLivenessListener do
    it 'binds on app.supervising and fails when the supervisor stops controlling within controlling_ttl' do
      @listener = listener = described_class.new(hostname: '127.0.0.1', port: port, controlling_ttl: 300)
      expect(get).to be_nil
      listener.on_app_supervising(event)
      expect(get).to match([200, include('errors' => { 'controlling_ttl_exceeded' => false })])
      wait_until(timeout: 5) { get&.first == 500 }
      expect(get.last['errors']).to eq('controlling_ttl_exceeded' => true)
      listener.on_swarm_manager_control(event)
      expect(get.first).to eq(200)
    end
  end
end
