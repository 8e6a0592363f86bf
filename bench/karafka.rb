# frozen_string_literal: true

# Boot file of the benchmarks' `karafka server` child (KARAFKA_BOOT_FILE); bench/throughput.rb
# and bench/scheduler.rb pass the topic, group and job count in the environment
# (BENCH_SCHEDULES: a schedules topic to route too).
require_relative 'bench_job'
require_relative 'late_job'

class KarafkaApp < Karafka::App
  setup do |config|
    config.kafka = { 'bootstrap.servers': ENV.fetch('KAFKA_BOOTSTRAP', '127.0.0.1:9092') }
    config.client_id = 'karafka_rs_bench'
    config.group_id = ENV.fetch('BENCH_GROUP')
    config.concurrency = Integer(ENV.fetch('BENCH_CONCURRENCY', '5'))
    config.max_wait_time = 100
    # Knobs for investigations (defaults: the gem's own).
    config.max_messages = Integer(ENV['BENCH_MAX_MESSAGES']) if ENV['BENCH_MAX_MESSAGES']
    config.kafka.merge!(ENV['BENCH_KAFKA'].split(',').to_h { |pair| pair.split('=', 2) }) if ENV['BENCH_KAFKA']
    config.logger = Logger.new($stdout, level: Logger::WARN)
    # BENCH_CANCELS / BENCH_TRACES / BENCH_DEADLINE: the opt-in job features on (bench/features.rb).
    config.active_job.cancels_topic = ENV['BENCH_CANCELS'] if ENV['BENCH_CANCELS']
    config.active_job.traces = true if ENV['BENCH_TRACES']
    config.active_job.deadline = Float(ENV['BENCH_DEADLINE']) if ENV['BENCH_DEADLINE']
  end

  routes.draw do
    scheduled_messages(ENV['BENCH_SCHEDULES']) if ENV['BENCH_SCHEDULES']
    active_job_topic ENV.fetch('BENCH_TOPIC')
  end
end

ActiveJob::Base.queue_adapter = :karafka
require_relative 'noop_executor' if ENV['BENCH_NOOP']
