# frozen_string_literal: true

# The chaos harness: brokers of its own, `karafka server` children to kill, freeze and
# restart, jobs that record their runs, and a checker that compares runs with what was
# enqueued. Each scenario in ../scenarios is a script using Chaos.scenario.
$LOAD_PATH.unshift(File.expand_path('../../../lib', __dir__))
require 'active_job'
require 'karafka'
require 'fileutils'
require 'json'
require 'rbconfig'
require 'securerandom'
require 'set'
require_relative '../jobs'
require_relative 'brokers'
require_relative 'server'
require_relative 'records'
require_relative 'figures'

ActiveJob::Base.logger = Logger.new(nil)
ActiveJob::Base.queue_adapter = :karafka

module Chaos
  ROOT = File.expand_path('../../..', __dir__)
  # Multiplies every job count and duration (the runner's --fast sets 0.05).
  SCALE = Float(ENV.fetch('CHAOS_SCALE', '1'))
  # Base of this run's ports: the shared harness broker is BASE, a scenario's own broker
  # BASE+10, the cluster BASE+20.. (controllers at +100).
  BASE_PORT = Integer(ENV.fetch('CHAOS_PORT', '19092'))
  RUN_DIR = ENV.fetch('CHAOS_RUN_DIR') { File.join(ROOT, 'tmp/chaos', Time.now.utc.strftime('%Y%m%d-%H%M%S')) }
  STARTED = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  module_function

  def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)

  def epoch = Process.clock_gettime(Process::CLOCK_REALTIME)

  def log(message)
    warn(format('[%7.1fs] %s', now - STARTED, message))
  end

  # @return [Integer] n scaled by CHAOS_SCALE, at least `min`
  def scaled(count, min: 1) = [(count * SCALE).round, min].max

  # Runs one scenario and exits 0, or 1 when a job was lost (2 when the scenario failed).
  def scenario(name, title, &block)
    scenario = Scenario.new(name, title)
    code = scenario.run(&block)
    $stdout.flush
    $stderr.flush
    exit!(code) # skip at_exit hooks: the producer's flush must not hide anything now
  end

  # A scenario's state: its servers and brokers (always stopped), what was enqueued, the
  # disruptions, notes, and the runs of its jobs.
  class Scenario
    attr_reader :name, :dir, :output, :records, :enqueued, :servers, :group
    attr_accessor :excused, :keyed

    def initialize(name, title)
      @name = name
      @title = title
      @dir = File.join(RUN_DIR, name)
      FileUtils.rm_rf(@dir)
      FileUtils.mkdir_p(@dir)
      @output = File.join(@dir, 'runs.jsonl')
      @records = Records.new(@output)
      @enqueued = []
      @disruptions = []
      @notes = []
      @servers = []
      @brokers = []
      @extra = {}
      @excused = 0
      @keyed = false
      @group = "chaos-#{name}-#{SecureRandom.hex(3)}"
    end

    # @return [Integer] exit code
    def run
      Chaos.log("== #{@name}: #{@title} (scale #{SCALE})")
      started = Chaos.now
      yield self
      finish(Chaos.now - started)
    rescue StandardError, Interrupt => e
      Chaos.log("#{@name} FAILED: #{e.class}: #{e.message}\n  #{e.backtrace.first(8).join("\n  ")}")
      finish(Chaos.now - started, error: "#{e.class}: #{e.message}")
    ensure
      cleanup
    end

    # ------------------------------------------------------------ infrastructure --

    # The harness's shared broker when the runner started one, else a broker of our own.
    def broker
      @broker ||= if ENV['CHAOS_BOOTSTRAP']
                    Struct.new(:bootstrap).new(ENV['CHAOS_BOOTSTRAP'])
                  else
                    own_broker
                  end
    end

    # A broker only this scenario uses (to kill it).
    def own_broker
      @own_broker ||= Broker.new(File.join(@dir, 'kafka'), port: BASE_PORT + 10, controller_port: BASE_PORT + 110)
                            .tap { |b| @brokers << b }.tap(&:start)
    end

    def cluster
      @cluster ||= Cluster.new(File.join(@dir, 'cluster'), port: BASE_PORT + 20, controller_port: BASE_PORT + 120)
                          .tap { |c| @brokers << c }.tap(&:start)
    end

    # Points this process' producer (the enqueuer) at `bootstrap`.
    def connect(bootstrap, kafka = {})
      @bootstrap = bootstrap
      Karafka::App.setup do |config|
        config.kafka = { 'bootstrap.servers': bootstrap }.merge(kafka)
        config.client_id = 'karafka_rs_chaos_driver'
        config.logger = Logger.new(File.join(@dir, 'driver.log'))
      end
      Karafka.producer.monitor.subscribe('error.occurred') do |event|
        @delivery_failures = (@delivery_failures || 0) + 1
        Chaos.log("delivery failure: #{event[:error]&.message}") if @delivery_failures <= 3
      end
    end

    def delivery_failures = @delivery_failures || 0

    def topic(prefix, partitions:, replication: 1, config: {})
      name = "chaos-#{prefix}-#{SecureRandom.hex(3)}"
      Karafka::Admin.create_topic(name, partitions, replication, config)
      name
    end

    # A `karafka server` on `topics`; `instance` gives it a static membership id.
    def server(topics, instance: nil, env: {})
      name = "#{@servers.size + 1}#{instance ? "-#{instance}" : ''}"
      s = Server.new(name, log_path: File.join(@dir, "server-#{name}.log"),
                           env: { 'CHAOS_BOOTSTRAP' => @bootstrap, 'CHAOS_TOPICS' => Array(topics).join(','),
                                  'CHAOS_GROUP' => @group, 'CHAOS_OUTPUT' => @output,
                                  'CHAOS_INSTANCE_ID' => instance ? "#{@group}-#{instance}" : '' }.merge(env))
      @servers << s
      s.start
    end

    # ---------------------------------------------------------------- jobs --

    # Enqueues `jobs` (built with #job) with perform_all_later, in slices.
    def enqueue_all(jobs)
      jobs.each_slice(2_000) do |slice|
        ActiveJob.perform_all_later(slice)
        @enqueued.concat(slice.map { |job| job.arguments.first })
      end
      Karafka.producer.flush(60_000) or raise 'enqueue flush timed out'
    end

    def job(klass, topic, *arguments)
      klass.new(*arguments).tap { |job| job.queue_name = topic }
    end

    # Enqueues one job with perform_later, recording it as acknowledged unless it raised.
    # @return [Boolean]
    def enqueue(klass, topic, *arguments)
      klass.set(queue: topic).perform_later(*arguments)
      @enqueued << arguments.first
      true
    rescue StandardError => e
      @enqueue_errors = (@enqueue_errors || 0) + 1
      Chaos.log("enqueue of #{arguments.first} raised #{e.class}: #{e.message[0, 200]}") if @enqueue_errors <= 3
      false
    end

    def enqueue_errors = @enqueue_errors || 0

    # ----------------------------------------------------------- checking --

    # Waits (bounded) until `count` distinct jobs ran; false on timeout.
    def wait_for(count, timeout: 300, what: "#{count} jobs")
      deadline = Chaos.now + timeout
      until records.distinct >= count
        if Chaos.now > deadline
          Chaos.log("timed out after #{timeout}s waiting for #{what} (#{records.distinct} ran)")
          return false
        end
        sleep 0.02
      end
      true
    end

    def wait_until(timeout:, what:)
      deadline = Chaos.now + timeout
      until yield
        if Chaos.now > deadline
          Chaos.log("timed out after #{timeout}s waiting for #{what}")
          return false
        end
        sleep 0.1
      end
      true
    end

    # A kill, freeze or outage: the recovery figure measures the stall after it.
    def disruption(label)
      @disruptions << [Chaos.epoch, label]
      Chaos.log("disruption: #{label}")
    end

    def note(text)
      @notes << text
      Chaos.log("note: #{text}")
    end

    # Extra figures of this scenario (printed and exported).
    def figure(name, value)
      @extra[name] = value
    end

    # Lines of all server logs that match `pattern`.
    def server_log_lines(pattern)
      @servers.flat_map { |s| File.exist?(s.log_path) ? File.readlines(s.log_path).grep(pattern) : [] }
    end

    private

    def finish(elapsed, error: nil)
      figures = Figures.compute(enqueued: @enqueued, runs: records.refresh.runs, disruptions: @disruptions,
                                excused: @excused, keyed: @keyed).merge(@extra)
      figures['torn_records'] = records.torn if records.torn.positive?
      figures['runtime_s'] = elapsed.round(1)
      figures['error'] = error if error
      report(figures)
      if error then 2
      elsif figures['lost'].positive? then 1
      else 0
      end
    end

    def report(figures)
      out = ["== #{@name}: #{@title}", *Figures.format(figures).map { |l| "   #{l}" }]
      @extra.each { |k, v| out << "   #{k}: #{v.is_a?(String) ? v : v.inspect}" }
      @notes.each { |n| out << "   note: #{n}" }
      out << "   ERROR: #{figures['error']}" if figures['error']
      verdict = if figures['error'] then 'FAILED: the run did not finish, its figures are partial'
                elsif figures['lost'].positive? then 'LOST JOBS'
                else 'nothing lost'
                end
      out << "   #{verdict} (#{figures['runtime_s']} s; files: #{@dir.sub("#{ROOT}/", '')})"
      puts out
      File.write(File.join(@dir, 'figures.json'), JSON.pretty_generate(figures))
      return unless ENV['CHAOS_SUMMARY']

      File.open(ENV['CHAOS_SUMMARY'], 'a') { |f| f.puts(JSON.generate({ 'scenario' => @name, 'title' => @title }.merge(figures))) }
    end

    def cleanup
      # Every server resumes before any is stopped (a stopped one may wait on a paused one).
      @servers.each { |s| s.signal('CONT') }
      @servers.each { |s| s.stop('KILL', timeout: 10) } # rubocop:disable Style/CombinableLoops
      @brokers.reverse_each do |b|
        b.stop
      rescue StandardError => e
        Chaos.log("could not stop #{b.class}: #{e.message}")
      end
    end
  end
end
