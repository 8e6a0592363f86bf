# frozen_string_literal: true

# The Rust extension (`rake compile` puts it in lib/; `gem install` in the extension dir).
require 'karafka_rs'
