# frozen_string_literal: true

require 'spec_helper'
require 'open3'

# `exe/karafka` as a child process against the real broker.
RSpec.describe 'karafka CLI' do
  let(:suffix) { SecureRandom.hex(4) }
  let(:boot_file) { File.join(Dir.tmpdir, "karafka-cli-#{suffix}.rb") }
  let(:lib) { File.expand_path('../../lib', __dir__) }
  let(:exe) { File.expand_path('../../exe/karafka', __dir__) }

  def karafka(*args, env: {}, chdir: Dir.pwd)
    Open3.capture2e({ 'KARAFKA_BOOT_FILE' => boot_file }.merge(env), RbConfig.ruby, '-I', lib, exe, *args, chdir: chdir)
  end

  def write_boot_file(routes, kafka: "'bootstrap.servers': '#{SpecKafka.bootstrap}'", setup: '')
    File.write(boot_file, <<~RUBY)
      require 'active_job'
      require #{File.expand_path('../fixtures/jobs', __dir__).inspect}
      ActiveJob::Base.logger = Logger.new(nil)
      ActiveJob::Base.queue_adapter = :karafka

      class KarafkaApp < Karafka::App
        setup do |config|
          config.kafka = { #{kafka} }
          config.group_id = ENV.fetch('SPEC_GROUP', 'cli-spec')
          config.max_wait_time = 200
          #{setup}
        end
        routes.draw do
          #{routes}
        end
      end
    RUBY
  end

  after { FileUtils.rm_f(boot_file) }

  describe 'usage' do
    before { write_boot_file("active_job_topic 'cli-usage-#{suffix}'") }

    it 'rejects unknown commands, flags and arguments with the usage, and exits 1' do
      output, status = karafka('serve')
      expect(status.exitstatus).to eq(1)
      expect(output).to include('unknown command "serve"', 'Usage: karafka COMMAND')

      output, status = karafka('server', '--include-topicz', 'x')
      expect(status.exitstatus).to eq(1)
      expect(output).to include('invalid option: --include-topicz', 'Usage: karafka server')

      # Karafka's lists are comma-separated; a space-separated one would silently lose names.
      output, status = karafka('server', '--include-topics', 'a', 'b')
      expect(status.exitstatus).to eq(1)
      expect(output).to include('unexpected argument(s) b', '--include-topics a,b')

      output, status = karafka('topics', 'migrat')
      expect(status.exitstatus).to eq(1)
      expect(output).to include('unknown topics action "migrat"', 'Usage: karafka topics')

      output, status = karafka('help', 'server')
      expect(status).to be_success
      expect(output).to include('--exclude-subscription-groups')
    end

    it 'opens a console with the app loaded, and documents swarm with the server filters' do
      output, status = Open3.capture2e({ 'KARAFKA_BOOT_FILE' => boot_file }, RbConfig.ruby, '-I', lib, exe, 'c',
                                       stdin_data: "puts Karafka::App.routes.topics.map(&:name).join('|')\n")
      expect(status).to be_success, output
      expect(output).to include("cli-usage-#{suffix}")

      output, status = karafka('help', 'swarm')
      expect(status).to be_success
      expect(output).to include('Usage: karafka swarm [options]', '--include-consumer-groups')
    end

    it 'names a missing boot file clearly and exits 1' do
      output, status = karafka('server', env: { 'KARAFKA_BOOT_FILE' => '/nonexistent/karafka.rb' })
      expect(status.exitstatus).to eq(1)
      expect(output).to include('MissingBootFileError', '/nonexistent/karafka.rb')
    end
  end

  describe 'karafka server filters' do
    let(:topics) { %w[a b c].to_h { |name| [name, create_topic("cli-#{name}")] } }
    let(:group) { unique_group('cli') }
    let(:output) { File.join(Dir.tmpdir, "cli-#{suffix}.jsonl") }

    # Dynamic membership: these examples stop a server and start one with other routes in the
    # same groups, and a static member that stopped keeps its partitions for the session
    # timeout (restart_spec.rb covers that case for static members).
    before do
      write_boot_file(<<~RUBY, kafka: "'bootstrap.servers': '#{SpecKafka.bootstrap}', 'group.instance.id': false")
        consumer_group 'cli_group_#{suffix}' do
          active_job_topic '#{topics['a']}'
          subscription_group 'cli_subscription_#{suffix}' do
            active_job_topic '#{topics['b']}'
          end
        end
        active_job_topic '#{topics['c']}'
      RUBY
    end

    after { @servers&.each(&:ensure_stopped) }

    def start_server(*args)
      server = ArgsServerProcess.new(args: args, topics: [], group: group, output: output,
                                     env: { 'KARAFKA_BOOT_FILE' => boot_file }).start
      (@servers ||= []) << server
      server
    end

    def enqueue_one_per_topic
      topics.each { |name, topic| job_for(topic, RecordingJob, name).enqueue }
      Karafka.producer.flush
    end

    def ran
      JobRecorder.read(output).map { |record| record['id'] }.sort
    end

    # Jobs of a filtered-out topic stay in Kafka, uncommitted: an unfiltered server runs them.
    def expect_left_for_others(server, *names)
      expect(server.stop.exitstatus).to eq(0)
      expect(ran).not_to include(*names)
      names.product([group, "cli_group_#{suffix}"]).each { |name, id| expect(committed_total(id, topics[name])).to eq(0) }
      everything = start_server
      wait_until(message: -> { "the other jobs; log:\n#{everything.log}" }) { ran == %w[a b c] }
    end

    it 'runs only the topics given with --include-topics (and not those of --exclude-topics)' do
      server = start_server('--include-topics', "#{topics['a']},#{topics['b']},#{topics['c']}",
                            '--exclude-topics', topics['b'])
      enqueue_one_per_topic
      wait_until(message: -> { "jobs of a and c; log:\n#{server.log}" }) { ran == %w[a c] }
      expect_left_for_others(server, 'b')
    end

    it 'selects consumer groups, including the default one named config.group_id' do
      server = start_server('--exclude-consumer-groups', "cli_group_#{suffix}")
      enqueue_one_per_topic
      wait_until(message: -> { "the job of c; log:\n#{server.log}" }) { ran == %w[c] }
      expect_left_for_others(server, 'a', 'b')

      expect(karafka('server', '--include_consumer_groups', "#{group},nope-#{suffix}", env: { 'SPEC_GROUP' => group }))
        .to match([/no route has consumer groups nope-#{suffix} \(routed: cli_group_#{suffix}, #{group}\)/, anything])
    end

    it 'selects named subscription groups (legacy spelling --subscription-groups)' do
      server = start_server('--subscription-groups', "cli_subscription_#{suffix}")
      enqueue_one_per_topic
      wait_until(message: -> { "the job of b; log:\n#{server.log}" }) { ran == %w[b] }
      expect_left_for_others(server, 'a', 'c')
    end

    it 'refuses names no route has, and filters that leave nothing to consume' do
      output, status = karafka('server', '--include-topics', "#{topics['a']},missing-#{suffix}")
      expect(status.exitstatus).to eq(1)
      expect(output).to include("no route has topics missing-#{suffix}", topics['a'])

      output, status = karafka('server', '-g', "cli_group_#{suffix}", '--exclude-topics', "#{topics['a']},#{topics['b']}")
      expect(status.exitstatus).to eq(1)
      expect(output).to include('leaves no topic to consume')
    end
  end

  # Karafka's routes for hand-written consumers (an app's events topics beside its jobs): its
  # Admin scenarios route them too, only to declare topics.
  describe 'a route with a hand-written consumer' do
    let(:events) { "cli-events-#{suffix}" }
    let(:jobs) { "cli-aj-#{suffix}" }

    before do
      write_boot_file(<<~RUBY)
        active_job_topic '#{jobs}'
        topic '#{events}' do
          config(partitions: 2)
          consumer Class.new(Karafka::BaseConsumer)
        end
      RUBY
    end

    after { [events, jobs].each { |name| Karafka::Admin.delete_topic(name) } }

    it 'is declared (topics migrate creates it), refused by karafka server naming it, and left out by --exclude-topics' do
      output, status = karafka('topics', 'migrate')
      expect(status).to be_success, output
      expect(Karafka::Admin.topic_info(events)[:partition_count]).to eq(2)

      output, status = karafka('server')
      expect(status.exitstatus).to eq(1)
      expect(output).to include("#{events} (consumer #<Class:", 'karafka-rs does not run', "--exclude-topics #{events}")

      server = ArgsServerProcess.new(args: ['--exclude-topics', events], topics: [], group: unique_group, output: output_file,
                                     env: { 'KARAFKA_BOOT_FILE' => boot_file }).start
      job_for(jobs, RecordingJob, 'beside-events').enqueue
      wait_until(message: -> { "the job; log:\n#{server.log}" }) { JobRecorder.read(output_file).any? }
      expect(server.stop.exitstatus).to eq(0)
    ensure
      server&.ensure_stopped
    end

    def output_file
      @output_file ||= File.join(Dir.tmpdir, "cli-events-#{suffix}.jsonl")
    end
  end

  describe 'karafka topics' do
    let(:jobs) { "cli-jobs-#{suffix}" }
    let(:dead) { "cli-dead-#{suffix}" }
    let(:schedules) { "cli-schedules-#{suffix}" }
    let(:unmanaged) { "cli-unmanaged-#{suffix}" }
    let(:names) { [jobs, dead, schedules] }

    def declare(partitions:, retention:)
      write_boot_file(<<~RUBY)
        scheduled_messages('#{schedules}')
        active_job_topic('#{jobs}') do
          config(partitions: #{partitions}, replication_factor: 1, 'max.message.bytes': 2_048, 'retention.ms': #{retention})
          dead_letter_queue(topic: '#{dead}', max_retries: 1)
        end
        active_job_topic('#{unmanaged}') { config(active: false, partitions: 5) }
      RUBY
    end

    after { (names + [unmanaged]).each { |name| Karafka::Admin.delete_topic(name) } }

    it 'migrates: creates what is missing, adds partitions, aligns settings; plan shows it first' do
      declare(partitions: 2, retention: 86_400_000)
      output, status = karafka('topics', 'plan', '--detailed-exitcode')
      expect(status.exitstatus).to eq(2)
      expect(output).to include('Following topics will be created', "+ #{jobs}:", 'partitions: 2', "+ #{dead}:", "+ #{schedules}:")
      expect(Karafka::Admin.topics.keys & names).to be_empty # plan changes nothing

      output, status = karafka('topics', 'migrate')
      expect(status).to be_success, output
      expect(Karafka::Admin.topics.slice(*names, unmanaged)).to eq(jobs => 2, dead => 1, schedules => 1)
      # The declared setting reached the broker, which enforces it.
      expect { Karafka.producer.produce_sync(topic: jobs, payload: 'x' * 4_096) }
        .to raise_error(Karafka::Errors::ProduceError, /too large/i)

      output, status = karafka('topics', 'migrate', '--detailed-exitcode')
      expect([status.exitstatus, output]).to eq([0, "Topics match the routes: nothing to change\n"])

      declare(partitions: 4, retention: 3_600_000)
      output, status = karafka('topics', 'plan')
      expect(status).to be_success
      expect(output).to include("~ #{jobs}:", '~ partitions: 2 => 4', '~ retention.ms: "86400000" => "3600000"')

      output, status = karafka('topics', 'migrate', '--detailed-exitcode')
      expect(status.exitstatus).to eq(2), output
      expect(Karafka::Admin.topics[jobs]).to eq(4)
      config = Karafka::Admin.topic_config(jobs)
      # Aligning one setting kept the other one set on the topic.
      expect(config.transform_values { |entry| entry[:value] }.slice('retention.ms', 'max.message.bytes'))
        .to eq('retention.ms' => '3600000', 'max.message.bytes' => '2048')
      expect(karafka('topics', 'plan', '--detailed-exitcode')).to match([/will not perform any actions/, have_attributes(exitstatus: 0)])
    end

    it 'creates, repartitions, aligns, resets and deletes one step at a time' do
      declare(partitions: 1, retention: 86_400_000)
      output, status = karafka('topics', 'create')
      expect(status).to be_success, output
      expect(output.scan(/^Created/).size).to eq(3)

      declare(partitions: 3, retention: 60_000)
      expect(karafka('topics', 'repartition').last).to be_success
      expect(Karafka::Admin.topics[jobs]).to eq(3)
      expect(Karafka::Admin.topic_config(jobs).dig('retention.ms', :value)).to eq('86400000')
      expect(karafka('topics', 'align').first).to include("Aligned #{jobs}: retention.ms")
      expect(Karafka::Admin.topic_config(jobs).dig('retention.ms', :value)).to eq('60000')

      Karafka.producer.produce_sync(topic: jobs, payload: 'x', partition: 0)
      output, status = karafka('topics', 'reset')
      expect(status).to be_success, output
      expect(Karafka::Admin.read_watermark_offsets(jobs, 0)).to eq([0, 0])
      expect(Karafka::Admin.topics[jobs]).to eq(3)

      output, status = karafka('topics', 'delete')
      expect(status).to be_success, output
      expect(output.scan(/^Deleted/).size).to eq(3)
      expect(Karafka::Admin.topics.keys & names).to be_empty
    end
  end

  describe 'karafka info' do
    it 'prints the settings with every secret redacted' do
      write_boot_file("active_job_topic 'cli-info-#{suffix}'",
                      kafka: "'bootstrap.servers': 'broker:9092', 'sasl.username': 'app', 'sasl.password': 'hunter2', " \
                             "'ssl.key.password': 'k3y', 'ssl.key.pem': 'PEMKEY', 'ssl.certificate.pem': 'PEMCERT', " \
                             "'sasl.oauthbearer.client.secret': 'c1ient-s3cret', 'sasl.oauthbearer.config': 'principal=x'")
      output, status = karafka('info')
      expect(status).to be_success, output
      expect(output).to include('broker:9092', 'sasl.username', '"app"', "cli-info-#{suffix}")
      expect(output).not_to include('hunter2', 'k3y', 'PEMKEY', 'PEMCERT', 'c1ient-s3cret', 'principal=x')
      expect(output.scan('[FILTERED]').size).to eq(6)
    end
  end

  # Karafka lets a Rails app set Karafka up in an initializer, with KARAFKA_BOOT_FILE=false.
  describe 'a Rails app without a boot file' do
    it 'loads the app (config/environment.rb), whose initializer routes the topics' do
      Dir.mktmpdir do |dir|
        FileUtils.mkdir_p(File.join(dir, 'config', 'initializers'))
        File.write(File.join(dir, 'config', 'environment.rb'), <<~RUBY)
          require 'rails'
          require 'active_job/railtie'
          class CliRailsApp < Rails::Application
            config.root = #{dir.inspect}
            config.eager_load = false
            config.logger = Logger.new(nil)
          end
          Rails.application.initialize!
        RUBY
        File.write(File.join(dir, 'config', 'initializers', 'karafka.rb'), <<~RUBY)
          Karafka::App.setup { |config| config.kafka = { 'bootstrap.servers': #{SpecKafka.bootstrap.inspect} } }
          Karafka::App.routes.draw { active_job_topic 'cli-rails-#{suffix}' }
        RUBY

        output, status = karafka('info', chdir: dir, env: { 'KARAFKA_BOOT_FILE' => 'false' })
        expect(status).to be_success, output
        expect(output).to include("topics: cli-rails-#{suffix}", 'Boot file: false')

        # Without Rails (KARAFKA_REQUIRE_RAILS=false) there is nothing to load the routes from.
        output, status = karafka('info', chdir: dir, env: { 'KARAFKA_BOOT_FILE' => 'false', 'KARAFKA_REQUIRE_RAILS' => 'false' })
        expect(status.exitstatus).to eq(1)
        expect(output).to include('MissingBootFileError', 'no boot file at false')
      end
    end
  end

  describe 'karafka install' do
    it 'writes a karafka.rb and an example job that boot and route, and never overwrites them' do
      Dir.mktmpdir do |dir|
        output, status = karafka('install', chdir: dir, env: { 'KARAFKA_BOOT_FILE' => File.join(dir, 'karafka.rb') })
        expect(status).to be_success, output
        expect(output).to include('Created karafka.rb', 'Created app/jobs/example_job.rb')

        output, status = karafka('info', chdir: dir, env: { 'KARAFKA_BOOT_FILE' => File.join(dir, 'karafka.rb') })
        expect(status).to be_success, output
        expect(output).to include('topics: default')
        expect(File.read(File.join(dir, 'app/jobs/example_job.rb'))).to include('class ExampleJob < ActiveJob::Base', 'queue_as :default')

        File.write(File.join(dir, 'karafka.rb'), '# mine')
        output, status = karafka('install', chdir: dir, env: { 'KARAFKA_BOOT_FILE' => File.join(dir, 'karafka.rb') })
        expect(status).to be_success
        expect(output).to include('Exists  karafka.rb (left unchanged)', 'Exists  app/jobs/example_job.rb')
        expect(File.read(File.join(dir, 'karafka.rb'))).to eq('# mine')
      end
    end
  end
end

# `karafka server ARGS` as a child process.
class ArgsServerProcess < ServerProcess
  def initialize(args:, **options)
    super(**options)
    @args = args
  end

  def start
    launch('server', *@args)
  end
end
