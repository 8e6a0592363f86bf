# frozen_string_literal: true

require 'spec_helper'
require 'open3'
require 'rbconfig'

# What a Karafka 2.5 karafka.rb sets beyond the basics: each setting works, or fails at boot
# with an error naming it and what karafka-rs offers instead.
RSpec.describe 'Karafka 2.5 boot and configuration surface' do
  after { configure_spec_app }

  def setup_app(&block)
    Karafka::App.reset!
    Karafka::App.setup do |config|
      config.kafka = { 'bootstrap.servers': SpecKafka.bootstrap }
      config.logger = Logger.new(nil)
      block&.call(config)
    end
  end

  describe 'Karafka and Karafka::App readers' do
    it 'answers monitor, producer, logger, env, root, pro? on both, as Karafka does' do
      setup_app
      expect(Karafka::App.monitor).to be(Karafka.monitor)
      expect(Karafka::App.producer).to be(Karafka.producer)
      expect(Karafka::App.logger).to be(Karafka.logger)
      expect(Karafka::App.env).to eq(Karafka.env)
      expect(Karafka::App.root).to eq(Karafka.root)
      expect(Karafka.pro?).to be(true)
      expect(Karafka.gem_root.join('lib', 'karafka.rb')).to exist
    end

    it 'reads the environment from KARAFKA_ENV, then RACK_ENV, then RAILS_ENV, with predicates' do
      script = 'require "karafka"; e = Karafka.env; print [e, e.production?, e.test?, e.development?].join(",")'
      run = lambda do |env|
        out, status = Open3.capture2(env, RbConfig.ruby, '-I', File.expand_path('../../../../lib', __dir__), '-e', script)
        expect(status).to be_success
        out
      end
      clean = { 'KARAFKA_ENV' => nil, 'RACK_ENV' => nil, 'RAILS_ENV' => nil }
      expect(run.call(clean)).to eq('development,false,false,true')
      expect(run.call(clean.merge('RAILS_ENV' => 'production'))).to eq('production,true,false,false')
      expect(run.call(clean.merge('RAILS_ENV' => 'production', 'RACK_ENV' => 'test'))).to eq('test,false,true,false')
      expect(run.call(clean.merge('RAILS_ENV' => 'production', 'KARAFKA_ENV' => 'staging'))).to eq('staging,false,false,false')
    end

    it 'takes the root from KARAFKA_ROOT_DIR, else the Gemfile directory' do
      script = 'require "karafka"; print Karafka.root'
      lib = File.expand_path('../../../../lib', __dir__)
      out, = Open3.capture2({ 'KARAFKA_ROOT_DIR' => '/srv/app' }, RbConfig.ruby, '-I', lib, '-e', script)
      expect(out).to eq('/srv/app')
      out, = Open3.capture2({ 'KARAFKA_ROOT_DIR' => nil, 'BUNDLE_GEMFILE' => '/srv/other/Gemfile', 'RUBYOPT' => nil },
                            RbConfig.ruby, '-I', lib, '-e', script)
      expect(out).to eq('/srv/other')
    end
  end

  describe 'settings' do
    it 'accepts config.swarm.nodes (karafka swarm itself: spec/integration/swarm_spec.rb)' do
      config = setup_app { |c| c.swarm.nodes = 3 }
      expect(config.swarm.nodes).to eq(3)
    end

    it 'uses config.producer as Karafka.producer, and rejects what cannot produce' do
      custom = Karafka::Producer.new(kafka: { 'bootstrap.servers': SpecKafka.bootstrap })
      setup_app { |c| c.producer = custom }
      expect(Karafka.producer).to be(custom)
      expect(Karafka::App.producer).to be(custom)

      expect { setup_app { |c| c.producer = Object.new } }
        .to raise_error(Karafka::Errors::InvalidConfigurationError, /producer must be a Karafka::Producer/)
    ensure
      custom&.close(1_000)
    end

    it 'refuses an oauth token provider listener at boot, naming librdkafka’s OIDC settings' do
      expect(setup_app { |c| c.oauth.token_provider_listener = false }.oauth.token_provider_listener).to be(false)
      expect { setup_app { |c| c.oauth.token_provider_listener = Object.new } }
        .to raise_error(Karafka::Errors::InvalidConfigurationError,
                        /oauth.token_provider_listener is not supported.*sasl.oauthbearer.method/)
    end

    it 'validates initial_offset' do
      expect(setup_app { |c| c.initial_offset = 'latest' }.initial_offset).to eq('latest')
      expect { setup_app { |c| c.initial_offset = 'newest' } }
        .to raise_error(Karafka::Errors::InvalidConfigurationError, /initial_offset must be 'earliest' or 'latest'/)
    end

    it 'accepts Karafka’s harmless settings (consumer_persistence, strict_*, license, admin, worker_thread_priority)' do
      config = setup_app do |c|
        c.consumer_persistence = false
        c.strict_topics_namespacing = false
        c.strict_declarative_topics = true
        c.license.token = 'x'
        c.admin.group_id = 'ops_admin'
        c.worker_thread_priority = -1
        c.monitor = Karafka::Instrumentation::Monitor.new
      end
      expect([config.admin.group_id, config.worker_thread_priority]).to eq(['ops_admin', -1])
      expect(Karafka.monitor).to be(config.monitor)
    end

    it 'names an unknown setting, and unsupported internal ones, instead of a NoMethodError' do
      expect { setup_app { |c| c.consumer_mapper = ->(id) { id } } }
        .to raise_error(Karafka::Errors::InvalidConfigurationError, /config.consumer_mapper is not a karafka-rs setting; known settings: kafka/)
      expect { setup_app { |c| c.internal.tick_interval = 1_000 } }
        .to raise_error(Karafka::Errors::UnsupportedFeatureError, /config.internal.tick_interval .*active_job.deserializer/)
      expect { setup_app { |c| c.internal.active_job.dispatcher = Object.new } }
        .to raise_error(Karafka::Errors::UnsupportedFeatureError, /active_job.dispatcher cannot be replaced/)
    end

    it "reads Karafka's internal Active Job parts: the dispatcher the adapter uses, the options contract, the consumer" do
      active_job = setup_app.internal.active_job
      expect([active_job.dispatcher.class, active_job.job_options_contract.class, active_job.consumer_class])
        .to eq([Karafka::ActiveJob::Dispatcher, Karafka::ActiveJob::JobOptionsContract, Karafka::ActiveJob::Consumer])

      # A spec stubbing the dispatcher there catches what perform_later dispatches.
      job_class = Class.new(ActiveJob::Base) { queue_as 'stubbed' }
      stub_const('StubbedDispatchJob', job_class)
      expect(active_job.dispatcher).to receive(:dispatch).with(an_instance_of(job_class)).and_return(nil)
      ActiveJob::QueueAdapters::KarafkaAdapter.new.enqueue(job_class.new)
    end

    it 'takes a custom Active Job deserializer, and refuses one that cannot (de)serialize' do
      expect(setup_app.internal.active_job.deserializer).to be_an_instance_of(Karafka::ActiveJob::Deserializer)
      expect { setup_app { |c| c.internal.active_job.deserializer = Object.new } }
        .to raise_error(Karafka::Errors::InvalidConfigurationError, /internal.active_job.deserializer must answer serialize/)
    end
  end

  describe 'routes' do
    it 'refuses active_job_topic when Active Job is not loaded, as Karafka does' do
      script = <<~RUBY
        module Kernel
          alias_method :spec_require, :require
          def require(name) = name == 'active_job' ? raise(LoadError, name) : spec_require(name)
        end
        require 'karafka'
        begin
          Karafka::App.routes.draw { active_job_topic :default }
          print 'accepted'
        rescue Karafka::Errors::InvalidConfigurationError => e
          print e.message
        end
      RUBY
      out, = Open3.capture2(RbConfig.ruby, '-I', File.expand_path('../../../../lib', __dir__), '-e', script)
      expect(out).to match(/active_job_topic :default needs Active Job, which is not loaded/)
    end
  end
end
