# frozen_string_literal: true

module Karafka
  module Web
    # What the pages show, read from Kafka with {Karafka::Admin} on each request: the Web
    # topics the server processes write, the routed topics' offsets, dead letters, schedules.
    class Data
      # How many of the latest messages each read looks at.
      STATES_WINDOW = 500
      REPORTS_WINDOW = 720
      ERRORS_WINDOW = 100
      DLQ_WINDOW = 100
      SCHEDULES_WINDOW = 1_000
      # A process whose last report is older than this is not shown (it stopped or died).
      FORGET_AFTER = 300

      # @param admin [Admin]
      def initialize(admin = Admin.new)
        @admin = admin
        @topics = Web.topic_names
        @interval = Web.config.tracking.interval / 1000.0
      end

      # @return [Array<Hash>] the latest report of each process seen recently, with :status
      #   ("running", "stopped", or "silent" when reports stopped coming)
      def processes
        @processes ||= begin
          latest = {}
          read_all(@topics[:states], STATES_WINDOW).each do |message|
            next latest.delete(message.key) if message.raw_payload.nil?

            latest[message.key] = parse(message)
          end
          now = Time.now.to_f
          latest.values.compact.reject { |state| now - state['dispatched_at'].to_f > FORGET_AFTER }.map do |state|
            silent = state['state'] == 'running' && now - state['dispatched_at'].to_f > 3 * @interval
            state.merge('status' => silent ? 'silent' : state['state'])
          end.sort_by { |state| state['process_id'].to_s }
        end
      end

      # @return [Array<Hash>] processes still running
      def running_processes
        processes.select { |state| state['status'] == 'running' }
      end

      # @return [Array<Hash>] jobs running now on every running process, longest first
      def running_jobs
        running_processes.flat_map do |state|
          Array(state['running']).map { |job| job.merge('process_id' => state['process_id']) }
        end.sort_by { |job| job['started_at'].to_f }
      end

      # Rates per reporting interval, summed over the processes: counter deltas of each
      # process' consecutive reports, bucketed by time.
      # @return [Array<Hash>] `{ 'at' => epoch, 'processed' => per second, ... }`, oldest first
      def rates
        buckets = Hash.new { |hash, key| hash[key] = Tracker::COUNTERS.to_h { |name| [name.to_s, 0.0] } }
        reports = read_all(@topics[:reports], REPORTS_WINDOW).filter_map { |message| parse(message) }
        reports.group_by { |report| report['process_id'] }.each_value do |series|
          series.sort_by { |report| report['dispatched_at'].to_f }.each_cons(2) do |before, after|
            seconds = after['dispatched_at'].to_f - before['dispatched_at'].to_f
            next unless seconds.positive?

            bucket = buckets[(after['dispatched_at'].to_f / @interval).floor * @interval]
            Tracker::COUNTERS.each do |name|
              delta = after.dig('counters', name.to_s).to_i - before.dig('counters', name.to_s).to_i
              bucket[name.to_s] += [delta, 0].max / seconds
            end
          end
        end
        buckets.sort.last(REPORTS_WINDOW).map { |at, values| values.merge('at' => at) }
      end

      # @return [Array<Hash>] recent error reports, newest first
      def errors
        read_all(@topics[:errors], ERRORS_WINDOW).filter_map { |message| parse(message) }
                                                .sort_by { |error| -error['occurred_at'].to_f }
      end

      # Every routed topic's partitions: offsets, lag, the owning process, and its pause when
      # the owner backs off after a failed job (`paused`: offset, attempt, until, or nil).
      # @return [Array<Hash>]
      def topics
        owners = {}
        paused = {}
        running_processes.each do |state|
          Array(state['assigned']).each { |tp| owners[[tp['topic'], tp['partition']]] = state['process_id'] }
          Array(state['paused']).each { |pause| paused[[pause['topic'], pause['partition']]] = pause }
        end
        existing = existing_topics
        Karafka::App.routes.topics.reject(&:pattern).flat_map do |topic|
          group = topic.consumer_group
          partitions = existing[topic.name]
          next [{ topic: topic.name, group: group, missing: true }] unless partitions

          committed = @admin.committed_offsets(group, topic.name)
          (0...partitions).map do |partition|
            low, high = @admin.watermark_offsets(topic.name, partition)
            offset = committed.fetch(partition, -1)
            { topic: topic.name, group: group, partition: partition, low: low, high: high, committed: offset,
              lag: high - (offset.negative? ? low : offset), owner: owners[[topic.name, partition]],
              paused: paused[[topic.name, partition]] }
          end
        end
      end

      # @return [Integer] lag summed over every routed topic partition
      def total_lag
        topics.sum { |row| row[:lag].to_i }
      end

      # @return [Array<String>] the routes' dead letter topics
      def dlq_topics
        Karafka::App.routes.topics.filter_map { |topic| topic.dead_letter && topic.dead_letter[:topic] }.map(&:to_s).uniq
      end

      # Dead letters of `topic` (newest first), each with the action taken on it, if any.
      # @return [Array<Hash>] `{ message:, action: }`
      def dead_letters(topic)
        actions = dlq_actions
        read_all(topic, DLQ_WINDOW).reject(&:tombstone?).reverse.map do |message|
          { message: message, action: actions[Actions.dlq_key(message.topic, message.partition, message.offset)] }
        end
      end

      # @return [Hash{String => Hash}] "topic/partition/offset" => `{ 'action' =>, 'at' => }`
      def dlq_actions
        @dlq_actions ||= read_all(@topics[:dlq_actions], 10_000).each_with_object({}) do |message, actions|
          message.raw_payload.nil? ? actions.delete(message.key) : actions[message.key] = parse(message)
        end
      end

      # Pending schedules of every schedules topic, by due time.
      # @return [Array<Hash>] `{ topic:, partition:, key:, due_at:, target_topic:, job_class:, job_id: }`
      def schedules
        Karafka::App.routes.schedule_topics.flat_map do |name|
          pending = {}
          read_all(name, SCHEDULES_WINDOW).each do |message|
            headers = message.headers
            if message.raw_payload.nil? || headers['schedule_source_type'] != 'schedule'
              pending.delete(message.key)
              next
            end

            job = parse(message) || {}
            due_ms = headers['schedule_target_epoch_ms'] || (headers['schedule_target_epoch'].to_i * 1000)
            pending[message.key] = { topic: name, partition: message.partition, key: message.key,
                                     due_at: due_ms.to_i / 1000.0, target_topic: headers['schedule_target_topic'],
                                     job_class: job['job_class'], job_id: job['job_id'],
                                     arguments: job['arguments'].inspect[0, Tracker::MAX_TEXT] }
          end
          pending.values
        end.sort_by { |schedule| schedule[:due_at] }
      end

      private

      # The last `count` messages of each partition of `topic` (none when it does not exist).
      def read_all(topic, count)
        partitions = existing_topics[topic] or return []
        (0...partitions).flat_map { |partition| @admin.read_topic(topic, partition, count) }
      end

      def existing_topics
        @existing_topics ||= @admin.topics
      end

      def parse(message)
        payload = message.raw_payload
        payload && JSON.parse(payload)
      rescue JSON::ParserError
        nil
      end
    end
  end
end
