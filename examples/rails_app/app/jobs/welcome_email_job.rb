# frozen_string_literal: true

# Enqueued with the default dispatch: asynchronous produce (`perform_later` returns at once;
# the message is delivered in the background and flushed before the process exits).
class WelcomeEmailJob < ApplicationJob
  queue_as :default

  def perform(user_id, name)
    record("WelcomeEmailJob ran for user #{user_id} (#{name})")
  end
end
