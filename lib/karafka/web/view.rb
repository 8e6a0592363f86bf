# frozen_string_literal: true

require 'erb'
require 'uri'
require_relative 'helpers'

module Karafka
  module Web
    # ERB templates (lib/karafka/web/views) in which `<%= %>` always HTML-escapes; markup
    # built by a helper goes through unescaped only when wrapped by {Context#raw}.
    module View
      DIR = File.expand_path('views', __dir__)

      module_function

      # @return [String] Ruby source of the template, compiled once per process
      def source(name)
        (@sources ||= {})[name] ||= begin
          compiler = ERB::Compiler.new('-')
          compiler.pre_cmd = ['_out = +""']
          compiler.put_cmd = '_out.<<'
          compiler.insert_cmd = '_out.<< __escape'
          compiler.post_cmd = ['_out']
          compiler.compile(File.read(File.join(DIR, "#{name}.erb"))).first
        end
      end

      # Where templates run: their locals are this object's methods.
      class Context
        include Helpers

        # @param locals [Hash{Symbol => Object}]
        def initialize(locals)
          @raw = {}.compare_by_identity
          locals.each { |name, value| define_singleton_method(name) { value } }
        end

        # @return [String] the named template rendered here
        def render(name)
          raw(instance_eval(View.source(name), "#{name}.erb"))
        end

        # @return [String] the page `name` inside the layout
        def render_page(name)
          @content = render(name)
          render('layout')
        end

        # @return [String] the page's markup, for the layout
        attr_reader :content

        # Marks trusted markup (built by the helpers below from escaped parts).
        def raw(html)
          html = html.to_s
          @raw[html] = true
          html
        end

        private

        def __escape(text)
          @raw.key?(text) ? text : ERB::Util.html_escape(text)
        end
      end
    end
  end
end
