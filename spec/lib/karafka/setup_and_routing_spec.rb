# frozen_string_literal: true

require 'spec_helper'

RSpec.describe 'Karafka::App setup and routing' do
  after { configure_spec_app }

  def setup_with(**settings)
    Karafka::App.reset!
    Karafka::App.setup do |config|
      config.kafka = { 'bootstrap.servers': '127.0.0.1:9092' }
      settings.each { |key, value| config.public_send(:"#{key}=", value) }
    end
  end

  it 'accepts the documented settings, including the flat pause ones' do
    config = setup_with(client_id: 'app_1', concurrency: 10, max_messages: 50, max_wait_time: 500,
                        shutdown_timeout: 10_000, pause_timeout: 100, pause_max_timeout: 1_000)
    expect([config.concurrency, config.pause.timeout, config.pause.max_timeout]).to eq([10, 100, 1_000])
  end

  it 'names each invalid setting' do
    expect { setup_with(concurrency: 0) }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /concurrency must be an Integer greater than 0/)
    expect { setup_with(kafka: {}) }.to raise_error(Karafka::Errors::InvalidConfigurationError, /kafka must be a Hash/)
    expect { setup_with(max_wait_time: 5_000, shutdown_timeout: 1_000) }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /shutdown_timeout must be greater than max_wait_time/)
  end

  it 'routes active_job_topic and validates topic names' do
    routes = Karafka::Routing::Builder.new.draw do
      active_job_topic :default
      active_job_topic :critical do
        config(partitions: 6)
      end
    end
    expect(routes.topics.map(&:name)).to eq(%w[default critical])
    expect(routes.topics.last.declaration).to eq(partitions: 6)

    expect { Karafka::Routing::Builder.new.draw { active_job_topic 'bad topic' } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /active_job_topic 'bad topic' name must be/)
    expect { Karafka::Routing::Builder.new.draw { active_job_topic(:x) { config(partitions: 2, replication_factor: 0) } } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /'x' config replication_factor must be an Integer greater than 0/)
    expect { Karafka::Routing::Builder.new.draw { active_job_topic(:x) { virtual_partitions(partitioner: 'key') } } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /'x' virtual_partitions partitioner must respond to #call/)
    expect do
      Karafka::Routing::Builder.new.draw do
        active_job_topic(:x) do
          virtual_partitions(partitioner: ->(job) { job.key })
          dead_letter_queue(topic: 'dlq', max_retries: 0)
        end
      end
    end.to raise_error(Karafka::Errors::InvalidConfigurationError, /max_retries must be at least 1/)
  end
end

RSpec.describe Karafka::Routing::QueueName do
  around do |example|
    previous = ActiveJob::Base.queue_name_prefix
    ActiveJob::Base.queue_name_prefix = 'staging'
    example.run
  ensure
    ActiveJob::Base.queue_name_prefix = previous
  end

  it 'routes the same topic name Active Job enqueues to under a queue_name_prefix' do
    stub_const('PrefixedJob', Class.new(ActiveJob::Base) { queue_as :reports })
    routes = Karafka::Routing::Builder.new.draw { active_job_topic :reports }

    expect(routes.topics.map(&:name)).to eq([PrefixedJob.new.queue_name])
    expect(routes.topics.map(&:name)).to eq(['staging_reports'])
  end

  it 'does not prefix a name twice' do
    expect(described_class.topic_for('staging_reports')).to eq('staging_reports')
  end
end

RSpec.describe 'active_job_pattern routing' do
  it 'subscribes with librdkafka’s ^regex form and accepts long_running_job' do
    routes = Karafka::Routing::Builder.new.draw do
      active_job_pattern(/_jobs$/) { long_running_job true }
      active_job_pattern(/\Areports-.*/)
    end
    expect(routes.topics.map(&:name)).to eq(['^.*_jobs$', '^reports-.*'])
    expect(routes.topics.first).to be_long_running_job
  end

  it 'rejects what this version cannot do with a clear error' do
    expect { Karafka::Routing::Builder.new.draw { active_job_pattern('jobs') } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /needs a Regexp/)
    expect { Karafka::Routing::Builder.new.draw { active_job_pattern(/x/) { dead_letter_queue(topic: 'dlq') } } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, %r{active_job_pattern /x/ cannot have a dead_letter_queue})
  end
end

RSpec.describe Karafka::Routing::VirtualPartitions do
  it 'gives the partitioner the message metadata and reduces its value to a lane as Karafka does' do
    seen = []
    vp = described_class.new(partitioner: ->(job) { seen << job; job.key })
    lane = vp.lane_for(4, Karafka::Native::Unclassified.new('jobs', 0, 7, 'user-7'.b, { 'h' => 'v'.b }))

    expect(lane).to eq('user-7'.sum % 4)
    expect(seen.first.to_h).to eq(topic: 'jobs', partition: 0, offset: 7, key: 'user-7', headers: { 'h' => 'v' })
  end
end

RSpec.describe 'Routes for hand-written consumers' do
  it 'are declared, with their consumer and settings, as Karafka’s routing API reads them' do
    routes = Karafka::Routing::Builder.new.draw do
      topic(:orders_states) do
        config(partitions: 3)
        active(false)
        consumer Object
      end
      active_job_topic(:default)
    end
    custom, jobs = routes.topics

    expect([custom.name, custom.consumer, custom.custom_consumer?, custom.declaratives.partitions, custom.active?])
      .to eq(['orders_states', Object, true, 3, false])
    expect([jobs.consumer, jobs.custom_consumer?]).to eq([Karafka::ActiveJob::Consumer, false])
  end

  it 'refuse a pattern with a hand-written consumer, saying what to use instead' do
    expect { Karafka::Routing::Builder.new.draw { pattern(/orders-.*/) { consumer Object } } }
      .to raise_error(Karafka::Errors::UnsupportedFeatureError, /pattern .*needs a custom consumer.*active_job_pattern/)
  end
end
