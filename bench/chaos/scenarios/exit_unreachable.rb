# frozen_string_literal: true

# Defect 1 of issue 12: a process enqueues 1,000 async jobs while no broker is reachable and
# exits normally. The jobs cannot be delivered; they must not vanish silently: the process
# must say so (a log line, error.occurred, or a non-zero exit status). Figures: lost = the
# jobs not delivered when the process gave no sign at all.
require_relative '../lib/chaos'

count = 1_000

Chaos.scenario('exit_unreachable', "a process enqueues #{count} async jobs with the broker unreachable and exits") do |s|
  events = File.join(s.dir, 'events.log')
  stderr = File.join(s.dir, 'child.log')
  # A port where nothing listens: the run's broker port + 30 (never bound by the suite).
  env = { 'CHAOS_BOOTSTRAP' => "127.0.0.1:#{Chaos::BASE_PORT + 30}", 'CHAOS_COUNT' => count.to_s, 'CHAOS_EVENTS' => events }
  started = Chaos.now
  pid = Process.spawn(env, RbConfig.ruby, File.expand_path('../enqueue_and_exit.rb', __dir__),
                      out: [stderr, 'w'], err: %i[child out])
  _, status = Process.wait2(pid)
  took = Chaos.now - started
  count.times { |i| s.enqueued << "j#{i}" }
  reported_events = File.exist?(events) ? File.readlines(events).size : 0
  log = File.read(stderr)
  log_lines = log.lines.grep(/error|fail|lost|undeliver|not delivered/i).size
  s.figure('child_exit_status', status.exitstatus)
  s.figure('child_runtime_s', took.round(1))
  s.figure('error_occurred_events', reported_events)
  s.figure('log_lines_about_it', log_lines)
  loud = !status.success? || reported_events.positive? || log_lines.positive?
  s.excused = loud ? count : 0
  s.note(loud ? 'the process reported the undelivered jobs' : 'SILENT: exit 0, no error.occurred, nothing logged')
end
