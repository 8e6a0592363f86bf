# frozen_string_literal: true

module Chaos
  # A single-node broker of the harness's own, through bin/kafka with its own ports and data
  # directory (KAFKA_RUN_DIR), so it can be killed and restarted without touching any other.
  class Broker
    attr_reader :port

    # @param dir [String] config, data and log directory (wiped first: a fresh cluster)
    def initialize(dir, port:, controller_port:)
      @dir = dir
      @port = port
      @controller_port = controller_port
      FileUtils.rm_rf(dir)
      FileUtils.mkdir_p(dir)
    end

    def bootstrap = "127.0.0.1:#{@port}"

    def start = kafka('start')

    def stop = kafka('stop')

    # SIGKILL: a broker crash.
    def kill = kafka('kill')

    def log = File.join(@dir, 'kafka.log')

    private

    def kafka(command)
      env = { 'KAFKA_RUN_DIR' => @dir, 'KAFKA_PORT' => @port.to_s, 'KAFKA_CONTROLLER_PORT' => @controller_port.to_s,
              'KAFKA_HEAP_OPTS' => '-Xms128m -Xmx512m' }
      out = IO.popen(env, [File.join(ROOT, 'bin/kafka'), command], err: %i[child out], &:read)
      raise "bin/kafka #{command} failed: #{out}" unless $?.success?

      Chaos.log("broker #{@port}: #{out.lines.last&.strip}")
    end
  end

  # A KRaft cluster of `size` nodes through `bin/kafka cluster`.
  class Cluster
    def initialize(dir, port:, controller_port:, size: 3)
      @dir = dir
      @env = { 'KAFKA_RUN_DIR' => dir, 'KAFKA_CLUSTER_SIZE' => size.to_s, 'KAFKA_CLUSTER_PORT' => port.to_s,
               'KAFKA_CLUSTER_CONTROLLER_PORT' => controller_port.to_s, 'KAFKA_START_TIMEOUT' => '180' }
      FileUtils.rm_rf(dir)
      FileUtils.mkdir_p(dir)
    end

    def bootstrap = @bootstrap ||= cluster('bootstrap').strip

    def start = cluster('start')

    def stop = cluster('stop')

    def kill_broker(node) = cluster('kill-broker', node.to_s)

    def restart_broker(node) = cluster('restart-broker', node.to_s)

    # @return [Integer] the node leading the partition
    def leader(topic, partition) = Integer(cluster('leader', topic, partition.to_s).strip)

    private

    def cluster(*args)
      out = IO.popen(@env, [File.join(ROOT, 'bin/kafka'), 'cluster', *args], err: %i[child out], &:read)
      raise "bin/kafka cluster #{args.join(' ')} failed: #{out}" unless $?.success?

      Chaos.log("cluster: #{out.lines.last&.strip}") unless %w[bootstrap leader].include?(args.first)
      out
    end
  end
end
