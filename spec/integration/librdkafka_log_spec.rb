# frozen_string_literal: true

require 'spec_helper'
require 'open3'
require 'rbconfig'

# librdkafka's own log lines reach Karafka.logger, as in Karafka (rdkafka's default handed them
# to Rust's `log` crate, which has no logger here: they were all dropped, `debug` contexts too).
RSpec.describe 'librdkafka’s log lines' do
  let(:lib) { File.expand_path('../../lib', __dir__) }

  it 'are written to Karafka.logger with their severity, in a forked child too' do
    topic = create_topic('librdkafka-log')
    script = <<~RUBY
      require 'karafka'
      Karafka::App.setup do |config|
        config.kafka = { 'bootstrap.servers': #{bootstrap.inspect}, debug: 'broker' }
        config.logger = Logger.new($stdout, level: Logger::DEBUG)
      end
      Karafka.producer.produce_sync(topic: #{topic.inspect}, payload: 'parent')
      child = fork { Karafka.producer.produce_sync(topic: #{topic.inspect}, payload: 'child') }
      Process.wait(child)
    RUBY

    out, status = Open3.capture2e(RbConfig.ruby, '-I', lib, '-e', script)

    debug_lines = out.lines.grep(/DEBUG -- : rdkafka: \[\w+\]/)
    writers = debug_lines.map { |line| line[/#(\d+)\]/, 1] }.uniq # Logger's "[time #pid]"
    expect([status.exitstatus, writers.size]).to eq([0, 2]) # the parent's lines and the child's
    expect(out).to include('rdkafka: [BROKER]')
  end
end
