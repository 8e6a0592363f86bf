# frozen_string_literal: true

require 'spec_helper'
require 'open3'
require 'rbconfig'

# An app that forks after it produced (a Puma or Resque worker with the app preloaded): the
# child inherits the parent's librdkafka handle but none of its threads. Its jobs must still
# be delivered, and its exit must not touch the inherited handle (which used to panic, exiting 1).
RSpec.describe 'A forked child of a producing process' do
  let(:lib) { File.expand_path('../../lib', __dir__) }

  it 'delivers the child’s jobs through a producer of its own, and both exit 0' do
    topic = create_topic('fork-producer')
    script = <<~RUBY
      require 'active_job'
      require 'karafka'
      class ForkedJob < ActiveJob::Base
        def perform(*); end
      end
      ActiveJob::Base.queue_adapter = :karafka
      ActiveJob::Base.logger = Logger.new(nil)
      Karafka::App.setup do |config|
        config.kafka = { 'bootstrap.servers': #{bootstrap.inspect} }
        config.producer = WaterDrop::Producer.new { |producer| producer.kafka = { 'bootstrap.servers': #{bootstrap.inspect} } }
      end
      Karafka.producer.produce_sync(topic: #{topic.inspect}, payload: 'from the parent')
      working = fork { ForkedJob.set(queue: #{topic.inspect}).perform_later('from the child') }
      idle = fork { nil }
      statuses = [working, idle].map { |pid| Process.wait2(pid).last.exitstatus }
      puts "children exited \#{statuses.inspect}"
    RUBY

    out, status = Open3.capture2e(RbConfig.ruby, '-I', lib, '-e', script)

    expect([status.exitstatus, out]).to match([0, include('children exited [0, 0]')])
    payloads = Karafka::Admin.read_topic(topic, 0, 10).map(&:raw_payload)
    expect(payloads.first).to eq('from the parent')
    expect(payloads.drop(1).map { |payload| JSON.parse(payload)['arguments'] }).to eq([['from the child']])
  end
end
