# frozen_string_literal: true

require_relative 'water_drop/errors'
require_relative 'water_drop/instrumentation/logger_listener'
require_relative 'water_drop/instrumentation/monitor'
require_relative 'water_drop/producer'
