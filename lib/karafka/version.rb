# frozen_string_literal: true

module Karafka
  # Version of karafka-rs (the drop-in Karafka Active Job stack with a Rust core).
  VERSION = '0.1.0'
end
