# frozen_string_literal: true

# `gem install` runs this, then `make` and `make install`. With the rb_sys gem present its
# generator is used; otherwise (as on Debian, which does not package it) a small Makefile
# drives cargo and installs the library where RubyGems expects extensions (`sitearchdir`).
require 'rbconfig'

begin
  require 'mkmf'
  require 'rb_sys/mkmf'
  create_rust_makefile('karafka_rs')
rescue LoadError
  here = __dir__
  dlext = RbConfig::CONFIG['DLEXT']
  soext = RbConfig::CONFIG['SOEXT']
  File.write('Makefile', <<~MAKE)
    CARGO ?= cargo
    sitearchdir ?= #{RbConfig::CONFIG['sitearchdir']}
    # CARGO_TARGET_DIR from the environment wins (script/check-gem-install reuses a cache).
    CARGO_TARGET_DIR ?= #{here}/target
    TARGET_DIR = $(CARGO_TARGET_DIR)

    all: karafka_rs.#{dlext}

    karafka_rs.#{dlext}:
    \tCARGO_TARGET_DIR=$(TARGET_DIR) $(CARGO) build --release --locked --manifest-path #{here}/Cargo.toml
    \tcp $(TARGET_DIR)/release/libkarafka_rs.#{soext} karafka_rs.#{dlext}

    install: karafka_rs.#{dlext}
    \tmkdir -p $(DESTDIR)$(sitearchdir)
    \tcp karafka_rs.#{dlext} $(DESTDIR)$(sitearchdir)/

    clean:
    \trm -rf $(TARGET_DIR) karafka_rs.#{dlext}

    .PHONY: all install clean
  MAKE
end
