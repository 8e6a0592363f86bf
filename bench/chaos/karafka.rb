# frozen_string_literal: true

# Boot file of the `karafka server` processes the chaos scenarios start, kill, freeze and
# restart (KARAFKA_BOOT_FILE). Everything a scenario varies comes in CHAOS_* variables.
require 'active_job'
require 'karafka'
require_relative 'jobs'

ActiveJob::Base.logger = Logger.new(nil)
ActiveJob::Base.queue_adapter = :karafka

class KarafkaApp < Karafka::App
  setup do |config|
    config.kafka = { 'bootstrap.servers': ENV.fetch('CHAOS_BOOTSTRAP') }
    # Unset: the library's default membership (see the restart scenario).
    instance_id = ENV.fetch('CHAOS_INSTANCE_ID', '')
    config.kafka[:'group.instance.id'] = instance_id unless instance_id.empty?
    # CHAOS_KAFKA: extra librdkafka settings, "key=value,key=value".
    ENV.fetch('CHAOS_KAFKA', '').split(',').each do |pair|
      key, value = pair.split('=', 2)
      config.kafka[key.to_sym] = value
    end
    config.client_id = 'karafka_rs_chaos'
    config.group_id = ENV.fetch('CHAOS_GROUP')
    config.concurrency = Integer(ENV.fetch('CHAOS_CONCURRENCY', '5'))
    config.max_wait_time = 200
    config.shutdown_timeout = 30_000
    config.logger = Logger.new($stdout, level: ENV.fetch('CHAOS_LOG_LEVEL', 'WARN'))
    config.pause.timeout = 500
    config.pause.max_timeout = 5_000
  end

  routes.draw do
    ENV.fetch('CHAOS_TOPICS').split(',').each do |topic|
      active_job_topic topic do
        if ENV['CHAOS_VP']
          virtual_partitions(partitioner: ->(message) { message.key }, max_partitions: Integer(ENV['CHAOS_VP']))
        end
        dead_letter_queue(topic: ENV['CHAOS_DLQ'], max_retries: 1, independent: true) if ENV['CHAOS_DLQ']
      end
    end
  end
end
