# frozen_string_literal: true

# The suite persists SpecCurrent (spec/fixtures/jobs.rb) and its fixture jobs declare deadlines,
# which send every job down the executor's observed path. `plain_path` takes both away around
# each example of a group, so the group runs the path of an app without either (the default),
# and puts them back afterwards.
module PlainPath
  def plain_path
    around do |example|
      attributes = Karafka::ActiveJob::CurrentAttributes
      deadlines = Karafka::ActiveJob::Deadlines
      persisted = attributes.names
      declared = deadlines.declared?
      attributes.instance_variable_set(:@class_names, nil)
      deadlines.declared = false # bumps PathEpoch
      example.run
    ensure
      attributes.instance_variable_set(:@class_names, persisted)
      deadlines.declared = declared
    end
  end
end

RSpec.configure { |config| config.extend PlainPath }
