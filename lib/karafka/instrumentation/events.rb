# frozen_string_literal: true

module Karafka
  module Instrumentation
    # Every event name karafka-rs publishes, in one list (names and payloads follow Karafka /
    # WaterDrop).
    EMITTED = %w[
      app.initialized
      app.supervising
      app.terminated
      app.running
      app.quieting
      app.quiet
      app.stopping
      app.stopped
      active_job.consume
      active_job.consumed
      active_job.cancelled
      active_job.overdue
      consumer.consume
      consumer.consumed
      worker.process
      worker.processed
      worker.completed
      consumer.consuming.pause
      connection.listener.fetch_loop
      client.reset
      dead_letter_queue.dispatched
      rebalance.partitions_assigned
      rebalance.partitions_revoked
      statistics.emitted
      error.occurred
      process.notice_signal
      message.produced_async
      message.produced_sync
      messages.produced_async
      messages.produced_sync
      message.acknowledged
      app.before_warmup
      swarm.manager.before_fork
      swarm.manager.after_fork
      swarm.node.after_fork
      swarm.manager.control
      swarm.manager.stopping
      swarm.manager.terminating
      recurring_tasks.task.executed
    ].freeze

    # Karafka 2.5's documented events (Operations/Instrumentation-Events) and WaterDrop's
    # producer events that karafka-rs never publishes: listeners written for Karafka may
    # subscribe to them (a Datadog or AppSignal listener answers many of these), they simply
    # never fire. The README lists them.
    NEVER_EMITTED = %w[
      app.initializing
      client.events_poll client.pause client.resume
      connection.listener.before_fetch_loop
      connection.listener.fetch_loop.received connection.listener.after_fetch_loop
      connection.listener.pending connection.listener.starting connection.listener.running
      connection.listener.quieting connection.listener.quiet connection.listener.stopping
      connection.listener.stopped
      consumer.initialize consumer.initialized
      consumer.before_schedule_consume consumer.consuming.retry consumer.consuming.seek
      consumer.consuming.transaction
      consumer.before_schedule_idle consumer.idle
      consumer.before_schedule_revoked consumer.revoke consumer.revoked
      consumer.before_schedule_tick consumer.tick consumer.ticked
      consumer.before_schedule_eofed consumer.eof consumer.eofed
      consumer.before_schedule_shutdown consumer.shutting_down consumer.shutdown
      consumer.wrap consumer.wrapped
      filtering.throttled filtering.seek
      oauthbearer.token_refresh
      rebalance.partitions_assign rebalance.partitions_revoke
      producer.connected producer.closing producer.closed producer.disconnecting
      producer.disconnected producer.reload producer.reloaded
      message.buffered message.purged messages.buffered
      buffer.flushed_async buffer.flushed_sync buffer.purged
      transaction.started transaction.committed transaction.aborted
      transaction.marked_as_consumed transaction.finished
    ].freeze

    # Every name `subscribe` accepts (Karafka's and WaterDrop's: one monitor class serves both).
    EVENTS = (EMITTED + NEVER_EMITTED).freeze

    # WaterDrop's own names (its producer monitor's); the rest are Karafka's. Both have
    # `error.occurred`, `statistics.emitted` and `oauthbearer.token_refresh`.
    WATERDROP_EVENTS = %w[
      producer.connected producer.closing producer.closed producer.disconnecting
      producer.disconnected producer.reload producer.reloaded
      message.produced_async message.produced_sync messages.produced_async messages.produced_sync
      message.acknowledged message.buffered message.purged messages.buffered
      buffer.flushed_async buffer.flushed_sync buffer.purged
      transaction.started transaction.committed transaction.aborted
      transaction.marked_as_consumed transaction.finished
      error.occurred statistics.emitted oauthbearer.token_refresh
    ].freeze
  end
end
