# frozen_string_literal: true

require 'spec_helper'
require 'open3'

RSpec.describe 'karafka topics' do
  let(:suffix) { SecureRandom.hex(4) }
  let(:boot_file) { File.join(Dir.tmpdir, "karafka-cli-#{suffix}.rb") }

  before do
    File.write(boot_file, <<~RUBY)
      class KarafkaApp < Karafka::App
        setup { |config| config.kafka = { 'bootstrap.servers': '#{SpecKafka.bootstrap}' } }
        routes.draw do
          scheduled_messages('cli-schedules-#{suffix}')
          active_job_topic('cli-jobs-#{suffix}') do
            config(partitions: 3, replication_factor: 1, 'max.message.bytes': 2_048)
            dead_letter_queue(topic: 'cli-dead-#{suffix}', max_retries: 1)
          end
        end
      end
    RUBY
  end

  def karafka(*args)
    Open3.capture2e({ 'KARAFKA_BOOT_FILE' => boot_file }, RbConfig.ruby, '-I', File.expand_path('../../lib', __dir__),
                    File.expand_path('../../exe/karafka', __dir__), *args)
  end

  it 'creates the job, dead letter and schedules topics of the routes, then deletes them' do
    output, status = karafka('topics', 'create')
    expect(status).to be_success, output
    topics = Karafka::Admin.topics
    expect(topics.slice("cli-jobs-#{suffix}", "cli-dead-#{suffix}", "cli-schedules-#{suffix}"))
      .to eq("cli-jobs-#{suffix}" => 3, "cli-dead-#{suffix}" => 1, "cli-schedules-#{suffix}" => 1)
    # The declared topic setting reached the broker, which enforces it.
    expect { Karafka.producer.produce_sync(topic: "cli-jobs-#{suffix}", payload: 'x' * 4_096) }
      .to raise_error(Karafka::Errors::ProduceError, /too large/i)

    output, status = karafka('topics', 'delete')
    expect(status).to be_success, output
    expect(output.scan(/^Deleted/).size).to eq(3)
  end

  it 'names a missing boot file clearly and exits 1' do
    output, status = Open3.capture2e({ 'KARAFKA_BOOT_FILE' => '/nonexistent/karafka.rb' }, RbConfig.ruby, '-I',
                                     File.expand_path('../../lib', __dir__), File.expand_path('../../exe/karafka', __dir__), 'server')
    expect(status.exitstatus).to eq(1)
    expect(output).to include('MissingBootFileError', '/nonexistent/karafka.rb')
  end
end
