# frozen_string_literal: true

module Karafka
  module Web
    # Formatting and markup helpers of the templates. Anything that returns markup escapes
    # every value it puts in it, then marks the result {View::Context#raw}.
    module Helpers
      NAV = [['', 'Dashboard'], ['processes', 'Processes'], ['jobs', 'Jobs'], ['topics', 'Topics'],
             ['errors', 'Errors'], ['dead_letters', 'Dead letters'], ['scheduled', 'Scheduled'],
             ['recurring', 'Recurring'], ['routing', 'Routing']].freeze

      def h(text)
        ERB::Util.html_escape(text)
      end

      # @return [String] the URL of a dashboard path (under the mount point)
      def url(path = '', params = {})
        query = params.empty? ? '' : "?#{URI.encode_www_form(params)}"
        "#{base}/#{path}#{query}"
      end

      # A POST form with the CSRF token; the block's markup (raw) goes inside.
      def post_form(path, fields, button, css = 'button')
        inputs = fields.map { |name, value| %(<input type="hidden" name="#{h(name)}" value="#{h(value)}">) }
        raw(%(<form method="post" action="#{h(url(path))}" class="inline">) +
            %(<input type="hidden" name="csrf" value="#{h(csrf_token)}">#{inputs.join}) +
            %(<button type="submit" class="#{h(css)}">#{h(button)}</button></form>))
      end

      def csrf_field
        raw(%(<input type="hidden" name="csrf" value="#{h(csrf_token)}">))
      end

      def ago(epoch)
        return '-' unless epoch

        duration(Time.now.to_f - epoch.to_f)
      end

      def duration(seconds)
        seconds = seconds.to_f
        return "#{seconds.round(1)} s" if seconds < 60
        return "#{(seconds / 60).floor} min #{(seconds % 60).floor} s" if seconds < 3600

        "#{(seconds / 3600).floor} h #{((seconds % 3600) / 60).floor} min"
      end

      def at(epoch)
        epoch ? Time.at(epoch.to_f).utc.strftime('%Y-%m-%d %H:%M:%S UTC') : '-'
      end

      def mb(kilobytes)
        kilobytes ? format('%.1f MB', kilobytes / 1024.0) : '-'
      end

      # An inline SVG line chart of `series` (name => values), no JavaScript needed.
      def chart(series, width: 640, height: 160)
        max = [series.values.flatten.max.to_f, 1.0].max
        colours = %w[#2a7ae2 #d9534f #f0ad4e #6f42c1]
        lines = series.each_with_index.map do |(name, values), index|
          step = values.size > 1 ? width.to_f / (values.size - 1) : width.to_f
          points = values.each_with_index.map { |value, i| format('%.1f,%.1f', i * step, height - (value / max * (height - 10))) }
          %(<polyline fill="none" stroke="#{colours[index % 4]}" stroke-width="2" points="#{h(points.join(' '))}"><title>#{h(name)}</title></polyline>)
        end
        legend = series.keys.each_with_index.map do |name, index|
          %(<span class="legend" style="color:#{colours[index % 4]}">&#9632; #{h(name)}</span>)
        end
        raw(%(<svg class="chart" viewBox="0 0 #{width} #{height}" width="#{width}" height="#{height}" role="img" ) +
            %(aria-label="jobs per second"><rect width="100%" height="100%" fill="#fafafa"/>#{lines.join}) +
            %(<text x="4" y="12" font-size="11">#{h(format('%.1f', max))}/s</text></svg><div>#{legend.join(' ')}</div>))
      end
    end
  end
end
