# frozen_string_literal: true

module Karafka
  module Native
    # A consumed message the engine holds back until its virtual partition (lane) is known
    # (`Native::Engine#_unclassified`): what a partitioner may read. `key` and header values
    # are binary Strings (or nil); `headers` is a Hash.
    Unclassified = Struct.new(:topic, :partition, :offset, :key, :headers)
  end
end
