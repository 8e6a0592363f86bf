# frozen_string_literal: true

module Karafka
  module Connection
    # Karafka's `config.internal.connection.manager`: in Karafka it starts, quiets and stops the
    # listeners (Pro's manager also scales them). In karafka-rs the server runs one listener per
    # consumer group itself, so this one has no behaviour of its own; it exists so the setting
    # reads and can be re-created as in Karafka (`manager.class.new`).
    class Manager # rubocop:disable Lint/EmptyClass -- a setting's value, without behaviour (see above)
    end
  end
end
