# frozen_string_literal: true

# Topics and groups against the real broker started by bin/kafka (KAFKA_BOOTSTRAP).
module SpecKafka
  module_function

  def bootstrap
    ENV.fetch('KAFKA_BOOTSTRAP', "127.0.0.1:#{ENV.fetch('KAFKA_PORT', '9092')}")
  end

  # A new topic with a unique name, so examples never see each other's jobs.
  def create_topic(prefix, partitions: 1)
    name = "#{prefix}-#{SecureRandom.hex(4)}"
    Karafka::Admin.create_topic(name, partitions)
    name
  end

  def unique_group(prefix = 'spec')
    "#{prefix}-#{SecureRandom.hex(4)}"
  end

  # @return [Integer] messages in the topic (sum of high watermarks)
  def topic_size(topic, partitions)
    (0...partitions).sum { |partition| Karafka::Admin.watermark_offsets(topic, partition).last }
  end

  # @return [Integer] sum of committed offsets of the group (none committed counts as 0)
  def committed_total(group, topic)
    Karafka::Admin.committed_offsets(group, topic).values.sum { |offset| [offset, 0].max }
  end
end

# Builds a job bound for `topic` (Rails 6.1 has no public instance `set(queue:)`).
module SpecJobs
  def job_for(topic, klass, *arguments)
    klass.new(*arguments).tap { |job| job.queue_name = topic }
  end
end
