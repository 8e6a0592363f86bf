# frozen_string_literal: true

# The helper Karafka's own integration scenarios are written against (spec/integrations in
# Karafka's repository: `setup_karafka`, `setup_active_job`, `draw_routes`,
# `start_karafka_and_wait_until`, `DT`, `assert_equal`, ...), written anew for karafka-rs from
# what those scenarios call. It drives karafka-rs only through Karafka 2.5's public API, the
# way Karafka's helper drives Karafka: Karafka::Server.execution_mode and Karafka::Server.run in
# the main thread, Karafka::Server.stop from another, config.internal.status.reset! between
# runs, a WaterDrop producer built with Karafka::Setup::AttributesMap, a listener checking that
# no message is handed over twice, and every `error.occurred` fatal unless allowed.
#
# A scenario is a plain Ruby script (spec/karafka_scenarios/**/*.rb) that requires this file;
# spec/karafka_scenarios/run runs each in a process of its own: it passes when it exits 0.

ENV['KARAFKA_ENV'] = 'test'

require 'securerandom'
require 'stringio'
require 'karafka'

Thread.abort_on_exception = true
$stdout.sync = true

# Where a scenario keeps what its jobs saw (Karafka's scenarios call it DT): fresh topic and
# group names, and lists by key.
module DataCollector
  MUTEX = Mutex.new
  TOPICS = Array.new(10) { "it-#{SecureRandom.uuid}" }.freeze
  DATA = Hash.new { |hash, key| hash[key] = [] }

  module_function

  def topic = TOPICS.first

  def topics = TOPICS

  def consumer_group = TOPICS.first

  def data = DATA

  def [](key) = MUTEX.synchronize { DATA[key] }

  def []=(key, value)
    MUTEX.synchronize { DATA[key] = value }
  end

  def key?(key) = MUTEX.synchronize { DATA.key?(key) }

  def uuids(count) = Array.new(count) { SecureRandom.uuid }

  def group = consumer_group

  def consumer_groups = [consumer_group]
end
DT = DataCollector

# Fails the scenario when a fetched batch or a consumer's messages hold an offset twice, or a
# message of another partition (Karafka's helper subscribes such a check too).
class DuplicatesCheck
  def on_connection_listener_fetch_loop_received(event)
    event[:messages_buffer].each do |topic, partition, messages|
      check(messages, topic, partition)
    end
  end

  def on_consumer_consume(event)
    consumer = event[:caller]
    return if consumer.share_group?

    check(consumer.messages, consumer.topic.name, consumer.partition)
    raise AssertionFailedError, 'a consumer without an id' if consumer.id.to_s.empty?
  end

  private

  def check(messages, topic, partition)
    offsets = messages.map(&:offset)
    raise AssertionFailedError, "#{topic}/#{partition}: offsets twice in #{offsets}" unless offsets.uniq == offsets

    stray = messages.reject { |message| message.topic == topic && message.partition == partition }
    raise AssertionFailedError, "#{topic}/#{partition}: messages of #{stray.map(&:topic)}" unless stray.empty?
  end
end

AssertionFailedError = Class.new(StandardError)

# @param allow_errors [Boolean, Array<String>] error.occurred types that do not fail the scenario
def setup_karafka(allow_errors: false, &block)
  Karafka::App.setup do |config|
    scenario_defaults(config)
    block&.call(config)
    config.producer = WaterDrop::Producer.new do |producer_config|
      producer_config.kafka = Karafka::Setup::AttributesMap.producer(config.kafka.dup)
      producer_config.logger = config.logger
      producer_config.max_wait_timeout = 120_000
    end
  end
  subscribe_scenario_listeners(allow_errors)
end

# Karafka's scenario defaults: quick heartbeats, pauses of a second, fresh names.
def scenario_defaults(config)
  config.kafka = { 'bootstrap.servers': ENV.fetch('KAFKA_BOOTSTRAP', '127.0.0.1:9092'),
                   'statistics.interval.ms': 100, 'heartbeat.interval.ms': 1_000,
                   'queue.buffering.max.ms': 5, 'partition.assignment.strategy': 'range,roundrobin' }
  config.client_id = DT.consumer_group
  config.group_id = DT.consumer_group
  config.pause.timeout = 1
  config.pause.max_timeout = 1
  config.pause.with_exponential_backoff = false
  config.max_wait_time = 500
  config.shutdown_timeout = 30_000
  config.swarm.nodes = 2
  config.internal.connection.reset_backoff = 1_000
end

def subscribe_scenario_listeners(allow_errors)
  Karafka.logger.level = ENV.fetch('SCENARIO_LOG_LEVEL', 'info')
  Karafka.monitor.subscribe(Karafka::Instrumentation::LoggerListener.new)
  Karafka.monitor.subscribe(Karafka::Instrumentation::ProctitleListener.new)
  Karafka.producer.monitor.subscribe(WaterDrop::Instrumentation::LoggerListener.new(Karafka.logger, log_messages: false))
  Karafka::App.monitor.subscribe(DuplicatesCheck.new)
  return if allow_errors == true

  Karafka::App.monitor.subscribe('error.occurred') do |event|
    next if allow_errors.is_a?(Array) && allow_errors.include?(event[:type])

    Karafka.logger.fatal("#{event[:type]}: #{event[:error]}")
    exit!(8)
  end
end

def setup_active_job
  require 'active_job'
  require 'active_job/karafka'
  ActiveJob::Base.extend Karafka::ActiveJob::JobExtensions
  ActiveJob::Base.queue_adapter = :karafka
end

# Draws the routes and creates their topics (each route's `config(...)`, else 1 partition).
# With a consumer class instead of a block, as Karafka's scenarios write it: `DT.topic` routed
# to that consumer (declared only: karafka-rs' server runs Active Job topics).
def draw_routes(consumer = nil, create_topics: true, &block)
  block ||= proc { topic(DT.topic) { consumer(consumer) } }
  Karafka::App.routes.draw(&block)
  return unless create_topics

  topics = Karafka::App.routes.map { |group| group.topics.to_a }.flatten
  topics.select { |topic| topic.declaratives.active? }.each do |topic|
    settings = topic.declaratives
    Karafka::Admin.create_topic(topic.name, settings.partitions, settings.replication_factor, settings.details)
  rescue Rdkafka::RdkafkaError => e
    raise unless e.code == :topic_already_exists
  end
end

# Runs the server in this thread until the block is true (checked from another thread, at most
# 240 s), then stops it. `reset_status: true` makes the process ready to run it again.
def start_karafka_and_wait_until(reset_status: false, &block)
  Thread.new do
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 240
    until block.call
      raise AssertionFailedError, "not done within 240 s: #{DT.data}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep(0.01) # polling a scenario's own condition, bounded above
    end
    Karafka::Server.stop
  end
  Karafka::Server.execution_mode.standalone!
  Karafka::Server.run
  return unless reset_status

  Karafka::App.config.internal.status.reset!
  Karafka::Server.listeners.each(&:pending!)
  manager = Karafka::App.config.internal.connection.manager
  Karafka::App.config.internal.connection.manager = manager.class.new
end

# @return [Integer] the offset the group would consume next on partition 0 of `topic`
def fetch_next_offset(topic = DT.topic, consumer_group_id: Karafka::App.consumer_groups.first.id)
  offset = Karafka::Admin.read_lags_with_offsets.fetch(consumer_group_id).fetch(topic)[0].fetch(:offset)
  offset.negative? ? 0 : offset
end

def produce(topic, payload, details = {})
  Karafka::App.producer.produce_sync(**details, topic: topic, payload: payload)
end

def produce_many(topic, payloads, details = {})
  Karafka::App.producer.produce_many_sync(payloads.map { |payload| { **details, topic: topic, payload: payload } })
end

# What the block printed to $stdout (Karafka's CLI scenarios read the commands' output).
def capture_stdout
  original = $stdout
  $stdout = StringIO.new
  yield
  $stdout.string
ensure
  $stdout = original
end

def assert_not_equal(unexpected, received, message = nil)
  return unless unexpected == received

  raise AssertionFailedError, message || "expected anything but #{unexpected.inspect} (#{DT.data})"
end

def assert_equal(expected, received, message = nil)
  return if expected == received

  raise AssertionFailedError, message || "expected #{expected.inspect}, got #{received.inspect} (#{DT.data})"
end

def assert(received, message = nil)
  assert_equal(true, received, message)
end
