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
  spec.license = 'LGPL-3.0-only' # LICENSE (the LGPL's text) and LICENSE-GPL (the GPL it builds on)
  spec.required_ruby_version = '>= 3.1'
  spec.homepage = 'https://github.com/karafka-rs/karafka-rs'
  spec.metadata = {
    'homepage_uri' => spec.homepage,
    'source_code_uri' => spec.homepage,
    'changelog_uri' => "#{spec.homepage}/blob/main/CHANGELOG.md",
    'bug_tracker_uri' => "#{spec.homepage}/issues",
    'rubygems_mfa_required' => 'true'
  }

  # The Ruby code (with the dashboard's views), the CLI, and what builds the extension: its
  # crate (sources, manifest, extconf.rb) and the root Cargo workspace, which holds only that
  # crate. Not its Rust tests, nor bench/, spec/, examples/ or target/.
  spec.files = Dir['lib/**/*.{rb,erb}', 'exe/*', 'ext/karafka_rs/{Cargo.toml,extconf.rb}', 'ext/karafka_rs/src/**/*.rs',
                   'Cargo.toml', 'Cargo.lock', 'README.md', 'CHANGELOG.md', 'LICENSE', 'LICENSE-GPL']
  spec.bindir = 'exe'
  spec.executables = ['karafka']
  spec.require_paths = ['lib']
  spec.extensions = ['ext/karafka_rs/extconf.rb']
end
