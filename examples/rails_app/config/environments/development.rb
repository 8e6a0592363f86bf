# frozen_string_literal: true

Rails.application.configure do
  # Reload application code between requests; load it lazily.
  config.cache_classes = false
  config.eager_load = false

  config.active_support.deprecation = :log
  config.log_level = :info

  # `RAILS_LOG_TO_STDOUT=1 bundle exec karafka server` shows Rails.logger lines next to
  # karafka's own log lines (bin/demo does this).
  if ENV['RAILS_LOG_TO_STDOUT'].present?
    logger = ActiveSupport::Logger.new($stdout)
    logger.formatter = config.log_formatter
    config.logger = ActiveSupport::TaggedLogging.new(logger)
  end
end
