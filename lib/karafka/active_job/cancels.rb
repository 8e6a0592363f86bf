# frozen_string_literal: true

module Karafka
  module ActiveJob
    # Cancelled job ids, read from `config.active_job.cancels_topic` (one partition, compacted:
    # the key is the job id, a tombstone withdraws the cancel).
    #
    # The guarantee (README, "Cancelling jobs"): {.cancel} returns once the record is acknowledged
    # by Kafka. A server reads the whole topic before its workers start, then checks the
    # topic's end every `cancels_interval` ms on its own thread (`karafka.cancels`) and reads
    # only when it moved. A job a worker starts after its server has read the cancel is skipped
    # (its offset committed, `active_job.cancelled` published); a job already running sees
    # `cancelled?` turn true at that read.
    module Cancels
      @ids = {}
      @read_to = 0

      class << self
        # @param job_or_id [ActiveJob::Base, String] a job (what `perform_later` returns) or its id
        # @return [String] the cancelled job id
        # @raise [Errors::InvalidConfigurationError] when `config.active_job.cancels_topic` is unset
        def cancel(job_or_id)
          id = job_or_id.respond_to?(:job_id) ? job_or_id.job_id.to_s : job_or_id.to_s
          raise ArgumentError, 'a job id is required' if id.empty?

          Karafka.producer.produce_sync(topic: topic!, key: id,
                                        payload: JSON.generate('job_id' => id, 'at' => Time.now.to_f))
          # A job scheduled by this process knows its schedule: it is removed too (a tombstone
          # for its key), so it is never dispatched. Otherwise it is skipped when it comes due.
          schedule = job_or_id.instance_variable_get(:@karafka_schedule) unless job_or_id.is_a?(String)
          Karafka.producer.produce_sync(topic: schedule[0], key: schedule[1], payload: nil) if schedule
          id
        end

        # @param id [String]
        # @return [Boolean] whether this process has read a cancel of the job
        def include?(id)
          @ids.key?(id)
        end

        # @return [String, nil] the cancels topic, when cancelling is on
        def topic
          App.config.active_job.cancels_topic
        end

        # Reads what the topic holds beyond what was read (everything, the first time), up to
        # the end it has now. A read that stops short (a broker that times out) leaves the rest
        # for the next call: the position only moves past records actually read.
        # @return [Integer] records read
        def read
          name = topic
          _low, high = Admin.read_watermark_offsets(name, 0)
          read = 0
          while @read_to < high
            messages = Admin.read_topic(name, 0, high - @read_to, @read_to)
            break if messages.empty? # nothing (more) to read now: a gap, or a timeout

            messages.each { |message| apply(message) }
            @read_to = messages.last.offset + 1
            read += messages.size
          end
          read
        end

        # Forgets what was read (specs).
        def reset!
          @ids = {}
          @read_to = 0
        end

        private

        # The key is the job id; a tombstone withdraws its cancel.
        def apply(message)
          key = message.raw_key
          return if key.nil?

          message.raw_payload.nil? ? @ids.delete(key) : (@ids[key] = true)
        end

        def topic!
          topic or raise Errors::InvalidConfigurationError,
                         'Karafka::ActiveJob.cancel needs config.active_job.cancels_topic (and `karafka topics migrate`)'
        end
      end

      # The server's `karafka.cancels` thread: reads the topic every `interval` ms until stopped.
      class Reader
        # @param monitor [Instrumentation::Monitor]
        # @param interval [Integer] ms
        def initialize(monitor, interval)
          @monitor = monitor
          @interval = interval / 1000.0
          @mutex = Mutex.new
          @wake = ConditionVariable.new
          @stopped = false
        end

        # Reads the whole topic (before any job runs), then starts the thread.
        # @return [self]
        def start
          Cancels.read
          @thread = Thread.new do
            Thread.current.name = 'karafka.cancels'
            run
          end
          self
        end

        def stop
          @mutex.synchronize do
            @stopped = true
            @wake.signal
          end
          @thread&.join
        end

        private

        def run
          loop do
            @mutex.synchronize { @wake.wait(@mutex, @interval) unless @stopped }
            break if @stopped

            begin
              Cancels.read
            rescue StandardError => e
              # A broker that does not answer: the next round tries again.
              @monitor.instrument('error.occurred', { type: 'active_job.cancels.read', error: e })
            end
          end
        end
      end
    end

    # `Karafka::ActiveJob.cancel(job_or_id)`: see {Cancels.cancel}.
    def self.cancel(job_or_id)
      Cancels.cancel(job_or_id)
    end

    # `cancelled?` inside a job: true once the server read a cancel of this job.
    module Cancellable
      # @return [Boolean]
      def cancelled?
        Cancels.include?(job_id)
      end
    end
  end
end
