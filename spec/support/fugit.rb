# frozen_string_literal: true

# Recurring tasks need fugit (Debian's ruby-fugit; bin/setup and bin/lane install it on both
# lanes). Run by bin/lane, a missing fugit fails the suite; a bare `rspec` elsewhere marks the
# recurring specs pending with this reason instead of failing on a LoadError.
FUGIT_MISSING = begin
  require 'fugit'
  nil
rescue LoadError
  raise if ENV['KARAFKA_LANE']

  'needs the fugit gem (Debian ruby-fugit), not installed here'
end
