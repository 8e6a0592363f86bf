# frozen_string_literal: true

# Prints the table of a chaos run from its summary.jsonl (one line per scenario).
require 'json'

rows = File.exist?(ARGV[0]) ? File.readlines(ARGV[0]).map { |l| JSON.parse(l) } : []
cells = lambda do |f|
  overlaps = f.key?('key_overlaps') ? "#{f['key_overlaps']} (#{f['keys_out_of_order']} keys out of order)" : '-'
  status = if f['error'] then "FAILED: #{f['error'][0, 60]}"
           elsif f['lost'].to_i.positive? then 'LOST JOBS'
           else 'ok'
           end
  [f['scenario'], f['runtime_s'], f['enqueued'], f['performed'], f['distinct'], f['lost'], f['duplicated'],
   f['max_runs'], f['recovery_max_s'] || '-', overlaps, status]
end
head = ['scenario', 'runtime s', 'enqueued', 'performed', 'distinct', 'lost', 'duplicated', 'max runs',
        'recovery max s', 'key overlaps', 'status']
puts
puts "| #{head.join(' | ')} |"
puts "|#{'---|' * head.size}"
rows.each { |f| puts "| #{cells.call(f).map { |c| c.nil? ? '-' : c }.join(' | ')} |" }
