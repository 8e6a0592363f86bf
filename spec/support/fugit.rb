# frozen_string_literal: true

# Recurring tasks need fugit (Debian's ruby-fugit); on a lane without it their specs are
# pending with this reason, instead of failing on a LoadError.
FUGIT_MISSING = begin
  require 'fugit'
  nil
rescue LoadError
  'needs the fugit gem (Debian ruby-fugit), not installed on this lane'
end
