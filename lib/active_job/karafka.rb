# frozen_string_literal: true

# The entry point without Rails, as Karafka documents it: `require "active_job/karafka"` loads
# Active Job, the `:karafka` adapter and `karafka_options` on every job class. Then
# `ActiveJob::Base.queue_adapter = :karafka` and a `Karafka::App.setup` are all a plain Ruby
# process needs to enqueue.
require 'active_job'
require_relative '../karafka'
