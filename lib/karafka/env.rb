# frozen_string_literal: true

module Karafka
  # `Karafka.env`: the environment name with predicates (`Karafka.env.production?`), taken as
  # Karafka does from `KARAFKA_ENV`, then `RACK_ENV`, then `RAILS_ENV`, else 'development'.
  class Env < String
    LOOKUP_ENV_KEYS = %w[KARAFKA_ENV RACK_ENV RAILS_ENV].freeze

    def initialize
      name = LOOKUP_ENV_KEYS.map { |key| ENV.fetch(key, nil) }.find { |value| value && !value.empty? }
      super(name || 'development')
    end

    # `production?`, `test?`, any name followed by `?`
    def method_missing(name, *args)
      return super unless name.end_with?('?') && args.empty?

      self == name.to_s.delete_suffix('?')
    end

    def respond_to_missing?(name, include_private = false)
      name.end_with?('?') || super
    end
  end
end
