# frozen_string_literal: true

require 'digest'
require 'socket'
require 'tmpdir'

module Karafka
  class Server
    # The default `group.instance.id` of `karafka server`: static membership, so a restarted
    # server takes its partitions back at once instead of waiting `session.timeout.ms` for its
    # dead predecessor's membership to expire (measured: 43-89 s without it).
    #
    # The id is "<client_id>-<host name>-<slot>-<topics tag>". The slot is the lowest number
    # whose lock file this process could lock (`flock`, released by the kernel when the
    # process dies, even by kill -9): two servers of one group on one host get slots 0 and 1,
    # and a server restarted after its predecessor exited gets that one's slot - and id -
    # again. The tag names the topics it subscribes to: Kafka hands a static member that
    # rejoins the assignment its id had, without a rebalance, so a server restarted with other
    # routes (a queue added in a deploy, other `--include-topics`) must come back as a new
    # member, or it would never get the new topics' partitions.
    class StaticMembership
      # More servers of one group on one host than this fall back to dynamic membership.
      MAX_SLOTS = 64

      # Lock files of this process by the id they gave, held open (and locked) until the server
      # that uses the id stops ({release}) or the process exits.
      HELD = {} # rubocop:disable Style/MutableConstant -- process-wide registry
      private_constant :HELD

      # @param group_id [String]
      # @param client_id [String]
      # @param topics [Array<String>] the topics (and patterns) the consumer subscribes to
      # @return [String, nil] the id, or nil when no slot was free
      def self.instance_id(group_id, client_id, topics)
        slot, file = claim_slot(group_id)
        return nil unless slot

        id = "#{client_id}-#{Socket.gethostname}-#{slot}-#{topics_tag(topics)}"
        HELD[id] = file
        id
      end

      # A stopped server's consumer closed: its slot (and id) is free for the next server of
      # this process (a server run again in the same process takes its id back instead of
      # joining as a new member and waiting `session.timeout.ms` for the old one to expire).
      # @param instance_id [String, nil]
      def self.release(instance_id)
        HELD.delete(instance_id)&.close
      end

      # @param topics [Array<String>]
      # @return [String] 8 hex digits that change when the subscribed topics change
      def self.topics_tag(topics)
        Digest::SHA256.hexdigest(topics.map(&:to_s).sort.uniq.join("\n"))[0, 8]
      end

      def self.claim_slot(group_id)
        safe = group_id.to_s.gsub(/[^\w.-]/, '_')
        MAX_SLOTS.times do |slot|
          file = File.open(File.join(Dir.tmpdir, "karafka-rs-#{safe}-#{slot}.lock"), File::RDWR | File::CREAT, 0o644)
          return [slot, file] if file.flock(File::LOCK_EX | File::LOCK_NB)

          file.close
        end
        nil
      end
      private_class_method :claim_slot
    end
  end
end
