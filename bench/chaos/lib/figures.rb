# frozen_string_literal: true

module Chaos
  # The figures of one scenario, from what the driver enqueued (acknowledged ids) and what
  # the jobs recorded (runs).
  module Figures
    module_function

    # @param enqueued [Array<String>] ids the producer acknowledged
    # @param runs [Array<Hash>] recorded runs
    # @param disruptions [Array<Array(Float, String)>] [epoch, label] of each kill/freeze/outage
    # @param excused [Integer] missing jobs that were reported as failed at enqueue (async
    #   delivery failures cannot be matched to one job id)
    # @return [Hash]
    def compute(enqueued:, runs:, disruptions: [], excused: 0, keyed: false)
      counts = Hash.new(0)
      offsets = Hash.new { |h, k| h[k] = [] }
      runs.each do |run|
        counts[run['id']] += 1
        offsets[run['id']] << [run['p'], run['o']]
      end
      expected = enqueued.uniq
      distinct = expected.count { |id| counts.key?(id) }
      missing = expected.size - distinct
      figures = {
        'enqueued' => expected.size, 'performed' => runs.size, 'distinct' => distinct,
        'missing' => missing, 'reported_at_enqueue' => excused, 'lost' => [missing - excused, 0].max,
        'duplicated' => runs.size - counts.size, 'jobs_run_more_than_once' => counts.count { |_, n| n > 1 },
        'max_runs' => counts.values.max || 0,
        'ran_without_ack' => (counts.keys - expected).size,
        'stored_twice' => offsets.count { |_, list| list.uniq.size > 1 }
      }
      figures.merge!(recovery(runs, disruptions, missing.positive?)) unless disruptions.empty?
      figures.merge!(overlaps(runs)) if keyed
      figures
    end

    # Recovery after each disruption: the longest time without any job starting, from the
    # disruption up to the next one (or the end of the run).
    # A last window without any start counts as never recovered only if jobs are missing.
    def recovery(runs, disruptions, missing)
      starts = runs.map { |run| run['s'] }.sort
      stalls = disruptions.each_with_index.map do |(at, _label), i|
        until_next = disruptions[i + 1]&.first || Float::INFINITY
        window = starts.select { |s| s >= at && s < until_next }
        next(until_next - at) if window.empty? && until_next.finite?
        next(missing ? nil : :done) if window.empty?

        ([at] + window).each_cons(2).map { |a, b| b - a }.max || 0.0
      end
      stalls.delete(:done)
      known = stalls.compact.sort
      { 'recovery_s' => stalls.map { |s| s&.round(2) }, 'recovery_max_s' => known.last&.round(2),
        'recovery_median_s' => known.empty? ? nil : known[known.size / 2].round(2),
        'never_recovered' => stalls.count(&:nil?) }
    end

    # Runs of one key that overlap in time (by CLOCK_MONOTONIC), and keys whose steps first
    # started out of order (ids are "key:step").
    def overlaps(runs)
      violations = 0
      across = 0
      worst = 0.0
      out_of_order = 0
      runs.group_by { |run| run['k'] }.each do |key, list|
        next if key.nil?

        latest = nil
        list.sort_by { |run| run['ms'] }.each do |run|
          if latest && run['ms'] < latest['mf']
            violations += 1
            across += 1 if run['pid'] != latest['pid']
            worst = [worst, latest['mf'] - run['ms']].max
          end
          latest = run if latest.nil? || run['mf'] > latest['mf']
        end
        firsts = list.group_by { |run| run['id'] }.map { |id, rs| [id.split(':').last.to_i, rs.map { |r| r['ms'] }.min] }
        steps = firsts.sort_by(&:last).map(&:first)
        out_of_order += 1 unless steps.each_cons(2).all? { |a, b| a < b }
      end
      { 'key_overlaps' => violations, 'key_overlaps_across_servers' => across,
        'worst_overlap_ms' => (worst * 1000).round(1), 'keys_out_of_order' => out_of_order }
    end

    # One line per figure group, for the terminal and RESULTS.md.
    def format(f)
      lines = ["enqueued #{f['enqueued']} | performed #{f['performed']} | distinct #{f['distinct']} | " \
               "lost #{f['lost']} | duplicated #{f['duplicated']} (#{f['jobs_run_more_than_once']} jobs) | " \
               "max runs of one job #{f['max_runs']}"]
      extra = []
      extra << "reported as failed at enqueue #{f['reported_at_enqueue']}" if f['reported_at_enqueue'].positive?
      extra << "ran without an ack #{f['ran_without_ack']}" if f['ran_without_ack'].positive?
      extra << "stored twice #{f['stored_twice']}" if f['stored_twice'].positive?
      lines << extra.join(' | ') unless extra.empty?
      if f.key?('recovery_max_s')
        lines << "recovery (longest stall after a disruption): max #{f['recovery_max_s'] || '-'} s, median " \
                 "#{f['recovery_median_s'] || '-'} s, never #{f['never_recovered']}; each: #{f['recovery_s'].inspect}"
      end
      if f.key?('key_overlaps')
        lines << "key-overlap violations #{f['key_overlaps']} (#{f['key_overlaps_across_servers']} across servers, " \
                 "worst #{f['worst_overlap_ms']} ms) | keys out of order #{f['keys_out_of_order']}"
      end
      lines
    end
  end
end
