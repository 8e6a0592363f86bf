# frozen_string_literal: true

require 'spec_helper'
require 'open3'

# The Ruby values the extension looks up on first use (error classes, Outcome::SUCCESS, which
# every worker reads as its first job ends). A lookup calls Ruby, and any Ruby call may hand
# the GVL to another thread; if that thread needs the same value meanwhile, it must not wait
# for the first (which cannot go on without the GVL it holds): the whole process would hang.
# Seen in a server whose workers finished their first jobs at once: two jobs ran, then nothing.
RSpec.describe 'Karafka::Native values looked up on first use' do
  # A fresh process (the values are per process), where the first lookup of ClosedError
  # sleeps, as a lookup that is preempted would: the second thread then needs it too.
  let(:script) do
    <<~RUBY
      require 'karafka'
      closed = Karafka::Errors.send(:remove_const, :ClosedError)
      Karafka::Errors.define_singleton_method(:const_missing) do |name|
        sleep 0.2 # lets the other thread run, as a preempted lookup does
        name == :ClosedError ? closed : super(name)
      end
      producer = Karafka::Native::Producer.new([%w[bootstrap.servers 127.0.0.1:1]])
      producer._close(0)
      threads = Array.new(2) do
        Thread.new do
          producer._produce_async([])
        rescue StandardError => e
          e.class
        end
      end
      puts threads.map(&:value).inspect
    RUBY
  end

  it 'is looked up by each thread that needs it meanwhile, without hanging the process' do
    root = File.expand_path('../../../..', __dir__)
    output = nil
    Open3.popen2e(RbConfig.ruby, '-I', File.join(root, 'lib'), '-e', script) do |stdin, out, thread|
      stdin.close
      reader = Thread.new { out.read }
      unless thread.join(20)
        Process.kill('KILL', thread.pid)
        raise "the process hung (killed after 20 s); output so far: #{reader.value}"
      end
      output = reader.value
      expect(thread.value).to be_success, output
    end
    expect(output.lines.last).to eq("[Karafka::Errors::ClosedError, Karafka::Errors::ClosedError]\n")
  end
end
