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

    expect(routes.map { |topic| [topic.name, topic.consumer_group] })
      .to eq([['outside', default], %w[inside orders], %w[also_inside orders]])
    expect(routes.consumer_groups).to eq([default, 'orders'])
    expect(routes.schedule_topic_group('schedules_outside')).to eq(default)
    expect(routes.schedule_topic_group('schedules_inside')).to eq('orders')
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
