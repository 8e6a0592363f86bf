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
    # CARGO_TARGET_DIR from the environment wins (script/check-gem-install reuses the checkout's).
    CARGO_TARGET_DIR ?= #{here}/target
    TARGET_DIR = $(CARGO_TARGET_DIR)

    all: karafka_rs.#{dlext}

    karafka_rs.#{dlext}:
    \tCARGO_TARGET_DIR=$(TARGET_DIR) $(CARGO) build --release --locked --manifest-path #{here}/Cargo.toml
    \tcp $(TARGET_DIR)/release/libkarafka_rs.#{soext} karafka_rs.#{dlext}

    install: karafka_rs.#{dlext}
    \tmkdir -p $(DESTDIR)$(sitearchdir)
    \tcp karafka_rs.#{dlext} $(DESTDIR)$(sitearchdir)/

    # RubyGems runs `make clean` before and after the build. The default target dir (inside
    # the installed gem) goes, saving its hundreds of MB; one given in the environment is the
    # caller's build cache and stays.
    clean:
    \trm -f karafka_rs.#{dlext}
    ifeq ($(origin CARGO_TARGET_DIR),file)
    \trm -rf $(TARGET_DIR)
    endif

    .PHONY: all install clean
  MAKE
end
