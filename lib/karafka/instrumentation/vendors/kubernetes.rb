# frozen_string_literal: true

require_relative 'kubernetes/base_listener'
require_relative 'kubernetes/liveness_listener'
require_relative 'kubernetes/readiness_listener'
require_relative 'kubernetes/swarm_liveness_listener'
