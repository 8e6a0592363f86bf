# frozen_string_literal: true

require 'spec_helper'

# Karafka 2.4+ names consumer groups as-is; routes outside a block belong to config.group_id.
RSpec.describe Karafka::Routing::Builder do
  it 'names each route’s group: the block’s name, else config.group_id' do
    routes = described_class.new.draw do
      active_job_topic :outside
      scheduled_messages :schedules_outside
      consumer_group :orders do
        active_job_topic :inside
        scheduled_messages :schedules_inside
      end
      consumer_group 'orders' do
        active_job_topic :also_inside
      end
    end
    default = Karafka::App.config.group_id

    expect(routes.topics.map { |topic| [topic.name, topic.consumer_group] })
      .to eq([['outside', default], %w[inside orders], %w[also_inside orders]])
    expect(routes.consumer_groups).to eq([default, 'orders'])
    expect(routes.schedule_topic_group('schedules_outside')).to eq(default)
    expect(routes.schedule_topic_group('schedules_inside')).to eq('orders')
  end

  it 'enumerates consumer groups with their topics, as Karafka::App.routes does in Karafka' do
    routes = described_class.new.draw do
      active_job_topic :outside
      consumer_group :orders do
        subscription_group(:fast) { active_job_topic :inside }
        active_job_topic :also_inside
      end
    end

    groups = routes.to_a
    expect(groups.map(&:id)).to eq([Karafka::App.config.group_id, 'orders'])
    expect(groups.map { |group| group.topics.map(&:name) }).to eq([%w[outside], %w[inside also_inside]])
    expect(groups.last.subscription_groups.map { |sg| [sg.name, sg.topics.map(&:name)] })
      .to eq([['fast', %w[inside]], ['orders', %w[also_inside]]])
    expect(routes.map { |route| route.topics.to_a }.flatten.map(&:name)).to eq(%w[outside inside also_inside])
  end

  it 'reads a topic back as Karafka does: declaratives and the dead letter queue' do
    routes = described_class.new.draw do
      active_job_topic :with_dlq do
        config(partitions: 3, replication_factor: 1, 'retention.ms': 60_000)
        dead_letter_queue(topic: 'dlq', max_retries: 2)
      end
      active_job_topic(:plain) { config(active: false) }
    end
    with_dlq, plain = routes.topics

    expect(with_dlq.declaratives).to have_attributes(active?: true, partitions: 3, replication_factor: 1,
                                                     details: { 'retention.ms': 60_000 })
    expect(with_dlq).to be_dead_letter_queue
    expect(with_dlq.dead_letter_queue).to have_attributes(active?: true, topic: 'dlq', max_retries: 2)
    expect(plain.declaratives).not_to be_active
    expect(plain).not_to be_dead_letter_queue
    expect(plain.dead_letter_queue).not_to be_active
  end

  it 'rejects nested consumer_group blocks and invalid group names' do
    expect { described_class.new.draw { consumer_group(:a) { consumer_group(:b) { active_job_topic :x } } } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /do not nest/)
    expect { described_class.new.draw { consumer_group('bad name') { active_job_topic :x } } }
      .to raise_error(Karafka::Errors::InvalidConfigurationError, /consumer_group 'bad name' name/)
  end

  it 'gives each group an engine of its own, with the group’s topics and its id as group.id' do
    app = Class.new do
      def self.config = Karafka::App.config
      def self.routes = @routes ||= Karafka::Routing::Builder.new
    end
    app.routes.draw do
      active_job_topic :outside
      consumer_group(:orders) { active_job_topic :inside }
    end
    settings = app.routes.consumer_groups.map { |group| Karafka::Server::EngineSettings.new(app, Karafka.monitor, group) }

    expect(settings.map { |s| [s.group_id, s.job_topics] })
      .to eq([[Karafka::App.config.group_id, ['outside']], ['orders', ['inside']]])
    expect(settings.last.send(:kafka).to_h).to include('group.id' => 'orders')
  end
end
