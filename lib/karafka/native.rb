# frozen_string_literal: true

# The values that cross the native boundary, defined here and read by name in Rust
# (ext/README.md, "Named values"). Loaded before the extension, which looks them up.
require_relative 'native/engine_settings'
require_relative 'native/outgoing_message'
require_relative 'native/deliveries'
require_relative 'native/unclassified'
require_relative 'native/engine_event'
require_relative 'native/admin_rows'
require_relative 'active_job/outcome'

# The Rust extension: `rake compile` builds one per Ruby ABI into lib/karafka_rs/<ABI>/ (so
# the host and bin/lane's Rubies can share a checkout); an installed gem has it in its
# extension dir, found by `require 'karafka_rs'`.
built_here = File.expand_path(
  "../karafka_rs/#{RbConfig::CONFIG['ruby_version']}/karafka_rs.#{RbConfig::CONFIG['DLEXT']}", __dir__
)
if File.exist?(built_here)
  require built_here
else
  require 'karafka_rs'
end
