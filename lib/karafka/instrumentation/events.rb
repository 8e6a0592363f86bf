# frozen_string_literal: true

module Karafka
  module Instrumentation
    # Every event name karafka-rs publishes, in one list (names follow Karafka / WaterDrop).
    EVENTS = %w[
      app.running
      app.stopping
      app.stopped
      worker.processed
      consumer.consuming.pause
      dead_letter_queue.dispatched
      rebalance.partitions_assigned
      rebalance.partitions_revoked
      error.occurred
      message.produced_async
      message.produced_sync
      messages.produced_async
      messages.produced_sync
      app.before_warmup
      swarm.manager.before_fork
      swarm.manager.after_fork
      swarm.node.after_fork
      swarm.manager.control
      swarm.manager.stopping
      swarm.manager.terminating
    ].freeze
  end
end
