# frozen_string_literal: true

class KarafkaApp < Karafka::App
  setup do |config|
    config.kafka = { 'bootstrap.servers': ENV.fetch('KAFKA_BOOTSTRAP', '127.0.0.1:9092') }
    config.client_id = 'rails_demo'
  end
  Karafka.monitor.subscribe(Karafka::Instrumentation::LoggerListener.new(log_polling: true))
  Karafka.producer.monitor.subscribe(WaterDrop::Instrumentation::LoggerListener.new(Karafka.logger, log_messages: false))
  # The dashboard: every server reports to Kafka; `bundle exec karafka web` (or
  # `mount Karafka::Web::App, at: '/karafka'` in config/routes.rb) shows it.
  Karafka::Web.enable!
  routes.draw do
    active_job_topic :default
  end
end
