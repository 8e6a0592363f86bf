# frozen_string_literal: true

# Bundler requires a gem by its name; the public entry point is `require "karafka"`.
require_relative 'karafka'
