# frozen_string_literal: true

require 'spec_helper'

# Karafka 2.5's routing and setup API as its own setup/ and routing/ scenarios read it, each
# of which failed (NoMethodError, or accepted what Karafka refuses) before it was written.
RSpec.describe 'Karafka’s routing and setup API' do
  after { configure_spec_app }

  def draw(&block)
    Karafka::App.routes.clear
    Karafka::App.routes.draw(&block)
    Karafka::App.routes
  end

  it 'starts every topic from the defaults block, whose settings the topic’s own block overrides' do
    routes = draw do
      defaults do
        config(partitions: 5)
        active false
      end
      active_job_topic 'plain'
      consumer_group :other do
        active_job_topic 'own' do
          active true
          config(partitions: 2, replication_factor: 1)
        end
      end
    end
    plain, own = routes.topics
    expect([plain.active?, plain.config.partitions, own.active?, own.config.partitions]).to eq([false, 5, true, 2])
  end

  it 'reads routes as Karafka’s Array of consumer groups, topics by name, subscription groups with their settings' do
    Karafka::App.config.client_id = 'test-app'
    routes = draw do
      subscription_group { topic('a') { consumer Class.new } }
      topic('b') { consumer Class.new }
      subscription_group { topic('c') { consumer Class.new } }
      subscription_group('idle') { topic('d') { active false } }
    end
    group_id = Karafka::App.config.group_id
    expect([routes.size, routes.empty?, routes.last.id, routes[0].topics.find('b').name]).to eq([1, false, group_id, 'b'])

    groups = Karafka::App.subscription_groups.values.flatten
    expect(groups.map { |group| group.topics.map(&:name) }).to eq([%w[a], %w[b], %w[c]]) # unnamed blocks are groups too; idle is not active
    expect(groups.first.kafka).to include('client.id': 'test-app', 'group.id': group_id, 'bootstrap.servers': '127.0.0.1:9092')
    expect(routes.topics.first.subscription_group).to eq(groups.first)
  end

  it 'refuses, as Karafka does, what it cannot route: mixed namespacing, an empty subscription group, ' \
     'a kafka(...) without its cluster, an Active Job topic without offset management' do
    invalid = lambda do |&block|
      expect { draw(&block) }.to raise_error(Karafka::Errors::InvalidConfigurationError)
    end
    invalid.call { active_job_topic 'orders.created_v1' }
    invalid.call do
      active_job_topic 'orders_created'
      active_job_topic 'orders.created'
    end
    invalid.call { subscription_group('empty') { nil } }
    invalid.call { active_job_topic('a') { kafka('enable.partition.eof': true) } }
    invalid.call { active_job_topic('a') { manual_offset_management(false) } }

    expect(draw { active_job_topic('a') { kafka('enable.partition.eof': true, inherit: true) } }.topics.first.kafka)
      .to include('bootstrap.servers': '127.0.0.1:9092', 'enable.partition.eof': true)
    expect(draw do
      consumer_group(:one) { active_job_topic 'orders_created' }
      consumer_group(:two) { active_job_topic 'orders.created' }
    end.topics.size).to eq(2)
    Karafka::App.config.strict_topics_namespacing = false
    expect(draw { active_job_topic 'orders.created_v1' }.topics.first.manual_offset_management?).to be(true)
  end

  it 'declares settings by their topic-level names, a broker synonym declared later winning, as Karafka reads them' do
    draw do
      active_job_topic('sized') { config(partitions: 2, 'retention.bytes': 100_000, 'log.retention.bytes': -1, 'message.max.bytes': 2_048) }
    end
    declaration = Karafka::Cli::Topics::Declarations.from(Karafka::App.routes).first
    expect(declaration.settings).to eq('retention.bytes' => '-1', 'max.message.bytes' => '2048')
  end

  it 'routes a topic once per consumer group, and a job topic in one group only' do
    expect { draw { 2.times { active_job_topic 'twice' } } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /'twice' is routed twice in consumer group/)
    expect { draw { %i[a b].each { |name| consumer_group(name) { active_job_topic 'shared' } } } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /'shared' is routed in more than one consumer group.*\(a, b\)/)
    expect(draw { %i[a b].each { |name| consumer_group(name) { topic('shared') { consumer Class.new } } } }.size).to eq(2)
  end

  it 'refuses to run a topic starting elsewhere than config.initial_offset, naming it' do
    draw { active_job_topic('late') { initial_offset 'latest' } }
    expect(Karafka::App.routes.topics.first.initial_offset).to eq('latest')
    expect { Karafka::App.routes.refuse_unrunnable! }
      .to raise_error(Karafka::Errors::UnsupportedFeatureError, /late \(initial_offset latest\) start elsewhere than config.initial_offset \(earliest\)/)
  end

  it 'has a monitor in config inside setup, which Karafka’s docs subscribe to app.initialized on' do
    initialized = []
    Karafka::App.setup do |config|
      config.kafka = { 'bootstrap.servers': '127.0.0.1:9092' }
      config.monitor.subscribe('app.initialized') { initialized << Karafka::App.config.client_id }
    end
    expect([initialized, Karafka.monitor]).to eq([[Karafka::App.config.client_id], Karafka::App.config.monitor])
  end

  it 'reads the flat pause settings back and checks the admin ones' do
    config = Karafka::App.config
    config.pause_timeout = 2_000
    config.pause.max_timeout = 8_000
    expect([config.pause_timeout, config.pause_max_timeout, config.pause.timeout]).to eq([2_000, 8_000, 2_000])
    expect { Karafka::App.setup { |c| c.admin.retry_backoff = -1 } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /admin.retry_backoff must be an Integer greater than 0/)
  end

  it 'turns debug mode on: the loggers at DEBUG and librdkafka’s debug contexts for new clients' do
    Karafka::App.config.logger = Logger.new(IO::NULL, level: Logger::INFO)
    expect(Karafka::App.debug!).to be(true)
    expect([Karafka.logger.level, Karafka::App.config.kafka[:debug]]).to eq([Logger::DEBUG, 'all'])
    expect(Karafka.producer.config.kafka).to include(debug: 'all')
  ensure
    Karafka::App.config.kafka.delete(:debug)
    Karafka.reset_producer!
  end

  it 'has Karafka’s logger class: stdout and log/<env>.log, the file made on the first line only' do
    Dir.mktmpdir do |root|
      allow(Karafka).to receive(:root).and_return(Pathname.new(root))
      stdout = StringIO.new
      original = $stdout
      $stdout = stdout
      logger = Karafka::Instrumentation::Logger.new
      expect(Dir.exist?(File.join(root, 'log'))).to be(false)
      logger.error('first line')
      logger.close
      expect([File.read(File.join(root, 'log', "#{Karafka.env}.log")), stdout.string]).to all(include('first line'))
    ensure
      $stdout = original
    end
  end
end
