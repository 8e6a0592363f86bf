# frozen_string_literal: true

require 'spec_helper'
require 'open3'
require 'socket'
require 'tmpdir'

# karafka-testing's API as shipped in karafka-rs, used the way Karafka's testing docs use it,
# by an RSpec suite and a Minitest suite that each run in a child process with their own
# framework's runner (spec/fixtures/testing). The app's bootstrap server is a port that
# listens but never answers: any connection to it (a producer or consumer created behind the
# helpers' back) would sit in its accept queue, and the spec checks that none did.
RSpec.describe 'Karafka::Testing helpers' do
  let(:suite_dir) { File.expand_path('../fixtures/testing', __dir__) }
  let(:lib_dir) { File.expand_path('../../lib', __dir__) }
  let(:output) { File.join(Dir.tmpdir, "karafka-testing-#{SecureRandom.hex(4)}.jsonl") }
  let(:no_broker) { TCPServer.new('127.0.0.1', 0) }

  after do
    no_broker.close
    FileUtils.rm_f(output)
  end

  def run_suite(*command)
    env = { 'TESTING_BOOTSTRAP' => "127.0.0.1:#{no_broker.addr[1]}", 'SPEC_OUTPUT' => output, 'SPEC_OPTS' => nil }
    # From the suite's directory, so the child reads none of this project's .rspec.
    Open3.capture2e(env, RbConfig.ruby, '-I', lib_dir, *command, chdir: suite_dir)
  end

  def runs
    File.exist?(output) ? File.readlines(output).map { |line| JSON.parse(line) } : []
  end

  def connections_to_the_bootstrap_port
    count = 0
    loop do
      no_broker.accept_nonblock.close
      count += 1
    end
  rescue IO::WaitReadable
    count
  end

  it 'runs the RSpec suite: jobs buffered, run once with their arguments, no broker touched' do
    log, status = run_suite(Gem.bin_path('rspec-core', 'rspec'), 'rspec/jobs_rspec.rb')

    expect(status).to be_success, log
    expect(log).to match(/^14 examples, 0 failures$/)
    expect(runs).to eq([
                         { 'job' => 'WelcomeJob', 'arguments' => [42, 'hello'], 'current_user_id' => 7,
                           'provider_job_id' => 'mailers/0/0' },
                         { 'job' => 'OrderJob', 'arguments' => ['order-1'], 'provider_job_id' => 'orders/0/0' },
                         { 'job' => 'OrderJob', 'arguments' => ['order-2'], 'provider_job_id' => 'orders/0/1' },
                         { 'job' => 'WelcomeJob', 'arguments' => [44, 'produced'], 'current_user_id' => nil,
                           'provider_job_id' => 'mailers/2/0' }
                       ])
    expect(connections_to_the_bootstrap_port).to eq(0)
  end

  it 'runs the Minitest suite: jobs buffered, run once with their arguments, no broker touched' do
    log, status = run_suite('minitest/jobs_test.rb')

    expect(status).to be_success, log
    expect(log).to match(/^7 runs, \d+ assertions, 0 failures, 0 errors, 0 skips$/)
    # Minitest shuffles tests: compare without order.
    expect(runs).to contain_exactly(
      { 'job' => 'WelcomeJob', 'arguments' => [53, 'minitest'], 'current_user_id' => 9,
        'provider_job_id' => 'mailers/0/0' },
      { 'job' => 'WelcomeJob', 'arguments' => [54, 'produced'], 'current_user_id' => nil,
        'provider_job_id' => 'mailers/1/0' },
      { 'job' => 'OrderJob', 'arguments' => ['order-m'], 'provider_job_id' => 'orders/0/0' }
    )
    expect(connections_to_the_bootstrap_port).to eq(0)
  end
end
