# frozen_string_literal: true

# The side-by-side section of bench/lanes: reads the BENCH_SUMMARY files the scripts wrote on
# each lane (throughput.host.json, throughput.modern.json, ...) and appends one table per
# script to the results file, each lane's figures next to its own Ruby reference loop.
# Usage: ruby bench/lanes_table.rb SUMMARY.json ...
require 'fileutils'
require 'json'

RESULTS = ENV.fetch('BENCH_RESULTS', File.join(__dir__, 'results', "#{Time.now.utc.strftime('%Y-%m')}.md"))
LANES = %w[host modern].freeze

summaries = ARGV.each_with_object(Hash.new { |h, k| h[k] = {} }) do |path, all|
  script, lane = File.basename(path, '.json').split('.')
  all[script][lane] = JSON.parse(File.read(path))
end
abort 'bench/lanes_table.rb: no summaries' if summaries.empty?

def lane_header(runs)
  LANES.select { |lane| runs[lane] }.map do |lane|
    r = runs[lane]
    "#{lane} (Ruby #{r['ruby']}, Active Job #{r['active_job']}, load at its end #{r['load']})"
  end
end

def throughput(runs)
  lanes = LANES.select { |lane| runs[lane] }
  partitions = lanes.flat_map { |lane| runs[lane]['servers'].map { |s| s['partitions'] } }.uniq
  limit = "| (a) Ruby limit, jobs/s (median of every pass; the ratios below are to the best) | #{lanes.map { |lane| runs[lane]['limit'].round }.join(' | ')} |"
  rows = partitions.flat_map do |count|
    servers = lanes.map { |lane| runs[lane]['servers'].find { |s| s['partitions'] == count } }
    ["| (b) server, #{count} partition(s), steady jobs/s | #{servers.map { |s| s ? s['steady'].round : '' }.join(' | ')} |",
     "| (b) / (a), #{count} partition(s) | #{servers.map { |s| s ? s['ratio'].round(3) : '' }.join(' | ')} |",
     "| (b) / (a), #{count} partition(s), best runs' median 1,000-job stretches | " \
     "#{servers.map { |s| s&.dig('median_ratio')&.round(3) || '' }.join(' | ')} |",
     "| server CPU µs per job, #{count} partition(s) (boot included) | " \
     "#{servers.map { |s| s ? s['cpu_us'].round(1) : '' }.join(' | ')} |"]
  end
  ['### bench/throughput.rb', '', "| | #{lane_header(runs).join(' | ')} |", "|---|#{'---|' * lanes.size}", limit, *rows]
end

def enqueue(runs)
  lanes = LANES.select { |lane| runs[lane] }
  keys = runs[lanes.first]['paths'].keys
  rows = keys.map do |key|
    cells = lanes.map do |lane|
      path = runs[lane]['paths'][key] or next ''
      floor = path['floor_ratio'] ? ", #{path['floor_ratio'].round(3)} of its floor" : ''
      "#{path['jobs_per_s'].round} (#{path['ratio'].round(3)} of ref#{floor})"
    end
    "| #{key} | #{cells.join(' | ')} |"
  end
  ['### bench/enqueue.rb (jobs/s; ratios to the lane\'s own (ref) loop)', '',
   "| path | #{lane_header(runs).join(' | ')} |", "|---|#{'---|' * lanes.size}", *rows]
end

TABLES = { 'throughput' => method(:throughput), 'enqueue' => method(:enqueue) }.freeze
tables = summaries.filter_map { |script, runs| TABLES[script]&.call(runs)&.join("\n") }
section = <<~MD
  ## #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')} — both lanes side by side (`bench/lanes`)

  Each lane's figures come from its own run of the script (sections above); ratios are to that lane's own Ruby reference loop. The lanes ran one after the other, script by script.

  #{tables.join("\n\n")}
MD
FileUtils.mkdir_p(File.dirname(RESULTS))
File.open(RESULTS, 'a') { |file| file.puts(section) }
puts section
