# frozen_string_literal: true

require_relative 'lib/karafka/version'

Gem::Specification.new do |spec|
  spec.name = 'karafka-rs'
  spec.version = Karafka::VERSION
  spec.authors = ['karafka-rs developers']
  spec.summary = "Karafka's Active Job stack (with Enhanced Active Job) on a Rust core"
  spec.description = 'A drop-in replacement for Karafka as a Rails Active Job backend: the same ' \
                     'karafka.rb, job classes and `karafka server`, with producing, consuming and ' \
                     'scheduling done in Rust (rdkafka).'
  spec.license = 'LGPL-3.0-only'
  spec.required_ruby_version = '>= 3.1'

  # The Cargo workspace (Cargo.toml, Cargo.lock) names bench/kafka_drain as a member, so its
  # manifest and source ship too: cargo loads every member's manifest, and `--locked` refuses
  # a workspace that differs from the lock file. It is never built (not a default member).
  spec.files = Dir['lib/**/*.rb', 'exe/*', 'ext/**/*.{rs,rb,toml}', 'bench/kafka_drain/**/*.{rs,toml}',
                   'Cargo.toml', 'Cargo.lock', 'README.md']
  spec.bindir = 'exe'
  spec.executables = ['karafka']
  spec.require_paths = ['lib']
  spec.extensions = ['ext/karafka_rs/extconf.rb']
  spec.metadata['rubygems_mfa_required'] = 'true'
end
