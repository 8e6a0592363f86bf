# frozen_string_literal: true

require 'spec_helper'

RSpec.describe Karafka::Routing::Filter do
  let(:routes) do
    Karafka::Routing::Builder.new.draw do
      consumer_group :billing do
        active_job_topic :invoices
        subscription_group :slow do
          active_job_topic :reports
        end
      end
      subscription_group :mailers do
        active_job_topic :mail
      end
      active_job_topic :default
      scheduled_messages :schedules
    end
  end

  def run(**lists)
    routes.filter = described_class.new(**lists)
    routes.active_topics.map(&:name) + routes.active_schedule_topics
  end

  it 'lets everything run when empty' do
    expect(run).to eq(%w[invoices reports mail default schedules])
  end

  it 'selects by topic, consumer group (the default one is config.group_id) and subscription group' do
    expect(run(include: { topics: %w[mail schedules] })).to eq(%w[mail schedules])
    expect(run(exclude: { topics: %w[mail] })).to eq(%w[invoices reports default schedules])
    expect(run(include: { consumer_groups: %w[billing] })).to eq(%w[invoices reports])
    expect(run(include: { consumer_groups: [Karafka::App.config.group_id] })).to eq(%w[mail default schedules])
    expect(run(include: { subscription_groups: %w[slow mailers] })).to eq(%w[reports mail])
    expect(run(exclude: { subscription_groups: %w[slow] }, include: { consumer_groups: %w[billing] })).to eq(%w[invoices])
  end

  it 'names what no route has' do
    filter = described_class.new(include: { topics: %w[mail nope] }, exclude: { subscription_groups: %w[gone] })
    expect(filter.unknown_names(routes.names)).to eq(topics: %w[nope], subscription_groups: %w[gone])
    expect(routes.names).to eq(topics: %w[invoices reports mail default schedules],
                               consumer_groups: ['billing', Karafka::App.config.group_id],
                               subscription_groups: %w[slow mailers])
  end

  it 'prints itself as the flags that made it' do
    filter = described_class.new(include: { topics: %w[a b] }, exclude: { consumer_groups: %w[c] })
    expect(filter.to_s).to eq('--include-topics a,b --exclude-consumer-groups c')
  end
end
