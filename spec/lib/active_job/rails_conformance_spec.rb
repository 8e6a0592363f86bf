# frozen_string_literal: true

require 'spec_helper'
require 'open3'

# The adapter as each Rails version expects it (the lanes: host = Rails 6.1, modern = 7.2).
RSpec.describe 'The :karafka adapter and Rails' do
  let(:adapter_class) { ActiveJob::QueueAdapters::KarafkaAdapter }

  it 'is an ActiveJob::QueueAdapters::AbstractAdapter where Rails defines one (7.2+), as Karafka’s is' do
    if ActiveJob::QueueAdapters.const_defined?(:AbstractAdapter, false)
      expect(adapter_class.superclass).to be(ActiveJob::QueueAdapters::AbstractAdapter)
    else
      expect(ActiveJob.gem_version).to be < Gem::Version.new('7.2')
      expect(adapter_class.superclass).to be(Object)
    end
  end

  it 'answers stopping? with and without a job' do
    adapter = adapter_class.new
    expect(adapter.stopping?).to be(false)
    expect(adapter.stopping?(RecordingJob.new)).to be(false)
  end

  describe 'perform_all_later' do
    let(:topic) { create_topic('rails-bulk', partitions: 2) }
    let(:calls) { [] }

    before do
      Karafka.producer.monitor.subscribe('messages.produced_async') { |event| calls << event[:messages].size }
    end

    it 'goes through the adapter’s enqueue_all: one producer call for the batch, every job lands', :integration do
      ActiveJob.perform_all_later(Array.new(50) { |i| job_for(topic, RecordingJob, "bulk-#{i}") })
      expect(Karafka.producer.flush(10_000)).to be(true)
      expect(calls).to eq([50])
      expect(topic_size(topic, 2)).to eq(50)
    end

    it 'is Rails’ own, instrumented, and marks each job successfully_enqueued', :integration,
       lane: :modern, lane_reason: 'Rails 7.1+ has perform_all_later and successfully_enqueued; the host lane has 6.1' do
      expect(ActiveJob.method(:perform_all_later).owner).to be(ActiveJob.singleton_class)
      expect(ActiveJob.singleton_class.ancestors).not_to include(Karafka::ActiveJob::PerformAllLater)
      expect(RecordingJob.singleton_class.ancestors).not_to include(Karafka::ActiveJob::PerformAllLater)
      events = []
      subscriber = ActiveSupport::Notifications.subscribe('enqueue_all.active_job') { |*, payload| events << payload }
      jobs = Array.new(3) { |i| job_for(topic, RecordingJob, "flag-#{i}") }
      ActiveJob.perform_all_later(jobs)
      expect(jobs.map(&:successfully_enqueued?)).to eq([true, true, true])
      expect(events.map { |payload| payload[:enqueued_count] }).to eq([3])
      expect(calls).to eq([3])
    ensure
      ActiveSupport::Notifications.unsubscribe(subscriber) if subscriber
    end

    it 'is karafka-rs’ on Rails before 7.1',
       lane: :host, lane_reason: 'Rails 6.1 has no perform_all_later; the modern lane has Rails’ own' do
      expect(ActiveJob.gem_version).to be < Gem::Version.new('7.1')
      expect(ActiveJob.singleton_class.ancestors).to include(Karafka::ActiveJob::PerformAllLater)
      expect(RecordingJob.singleton_class.ancestors).to include(Karafka::ActiveJob::PerformAllLater)
    end
  end

  it 'prints no Active Job deprecation warning when enqueuing through the adapter', :integration do
    topic = create_topic('rails-deprecations')
    warnings = []
    deprecator = ActiveJob.respond_to?(:deprecator) ? ActiveJob.deprecator : ActiveSupport::Deprecation
    old_behavior = deprecator.behavior
    deprecator.behavior = ->(message, *) { warnings << message }
    job_for(topic, RecordingJob, 'one').enqueue
    ActiveJob.perform_all_later([job_for(topic, RecordingJob, 'two')])
    expect(Karafka.producer.flush(10_000)).to be(true)
    expect(warnings).to eq([])
  ensure
    deprecator.behavior = old_behavior if deprecator
  end

  it 'loads without Rails from require "active_job/karafka" (adapter and karafka_options)' do
    script = <<~RUBY
      require 'active_job/karafka'
      abort 'Rails got loaded' if defined?(Rails::Railtie)
      class PlainJob < ActiveJob::Base
        karafka_options(dispatch_method: :produce_sync)
        def perform; end
      end
      ActiveJob::Base.queue_adapter = :karafka
      print ActiveJob::Base.queue_adapter.class.name, ' ', PlainJob.karafka_options[:dispatch_method]
    RUBY
    # Rails is installed here (Debian's gems), as if in the Gemfile: Karafka would require it
    # then, unless told not to, which is what a Gemfile without rails amounts to.
    out, err, status = Open3.capture3({ 'KARAFKA_REQUIRE_RAILS' => 'false' }, RbConfig.ruby, '-I',
                                      File.expand_path('../../../lib', __dir__), '-e', script)
    expect(status).to be_success, err
    expect(out).to eq('ActiveJob::QueueAdapters::KarafkaAdapter produce_sync')
  end
end
