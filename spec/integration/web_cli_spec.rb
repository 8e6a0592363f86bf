# frozen_string_literal: true

require 'spec_helper'
require 'net/http'
require 'socket'

# `karafka web`: the dashboard served standalone, on 127.0.0.1 unless told otherwise.
RSpec.describe 'karafka web' do
  let(:root) { File.expand_path('../..', __dir__) }
  let(:port) { TCPServer.open('127.0.0.1', 0) { |server| server.addr[1] } }
  let(:log_path) { File.join(Dir.tmpdir, "karafka-web-#{SecureRandom.hex(4)}.log") }
  let(:env) do
    { 'KARAFKA_BOOT_FILE' => File.join(root, 'spec/lib/karafka/web/fixtures/karafka.rb'),
      'KAFKA_BOOTSTRAP' => SpecKafka.bootstrap, 'SPEC_TOPICS' => "web-cli-#{SecureRandom.hex(4)}",
      'SPEC_GROUP' => unique_group('web-cli'), 'SPEC_OUTPUT' => File::NULL,
      'SPEC_WEB_PREFIX' => "web_cli_#{SecureRandom.hex(4)}" }
  end

  after do
    if @pid
      Process.kill('KILL', @pid)
      Process.wait(@pid)
    end
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end

  def start(*args)
    @pid = Process.spawn(env, RbConfig.ruby, '-I', File.join(root, 'lib'), File.join(root, 'exe/karafka'), 'web',
                         *args, chdir: root, out: log_path, err: log_path)
    wait_until(message: -> { "the dashboard to listen; log: #{File.read(log_path)}" }) do
      File.exist?(log_path) && File.read(log_path).include?('Karafka dashboard on')
    end
  end

  it 'serves the dashboard on 127.0.0.1 by default and stops on TERM' do
    start('--port', port.to_s)
    expect(File.read(log_path)).to include("http://127.0.0.1:#{port}/")
    response = wait_until(message: 'an answer') { Net::HTTP.get_response(URI("http://127.0.0.1:#{port}/processes")) }
    expect(response.code).to eq('200')
    expect(response.body).to include('<h1>Processes</h1>')
    expect(response['set-cookie']).to include('karafka_web_csrf=', 'HttpOnly', 'SameSite=Strict')

    other = Socket.ip_address_list.find { |address| address.ipv4? && !address.ipv4_loopback? }
    if other
      expect { TCPSocket.new(other.ip_address, port).close }.to raise_error(Errno::ECONNREFUSED)
    end

    Process.kill('TERM', @pid)
    _, status = wait_until(message: 'the exit') { Process.wait2(@pid, Process::WNOHANG) }
    @pid = nil
    expect(status.exitstatus).to eq(0)
  end

  it 'refuses unknown flags with its usage' do
    output = IO.popen(env, [RbConfig.ruby, '-I', File.join(root, 'lib'), File.join(root, 'exe/karafka'), 'web', '--nope'],
                      chdir: root, err: %i[child out], &:read)
    expect($?.exitstatus).to eq(1)
    expect(output).to include('Usage: karafka web', '--host ADDRESS')
  end
end
