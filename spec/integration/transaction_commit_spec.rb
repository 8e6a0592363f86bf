# frozen_string_literal: true

require 'spec_helper'

# Rails 7.2's `enqueue_after_transaction_commit`: a job enqueued inside an Active Record
# transaction, on a class whose policy is `:default` (what `load_defaults 7.2` sets), leaves it
# to the adapter; karafka-rs answers true, so the job is produced only after the commit, and
# never when the transaction rolls back.
RSpec.describe 'Jobs enqueued inside an Active Record transaction',
               lane: :modern,
               lane_reason: 'enqueue_after_transaction_commit is Rails 7.2+ and needs ruby-sqlite3; the host lane has Rails 6.1' do
  let(:topic) { create_topic('transaction') }
  let(:group) { unique_group }
  let(:output) { File.join(Dir.tmpdir, "transaction-#{SecureRandom.hex(4)}.jsonl") }

  before(:all) do
    require 'active_record'
    ActiveRecord::Base.establish_connection(adapter: 'sqlite3', database: ':memory:')
    ActiveRecord::Migration.suppress_messages do
      ActiveRecord::Schema.define { create_table(:spec_orders) { |t| t.string :name } }
    end
    # What Rails' `active_job.enqueue_after_transaction_commit` initializer does in an app.
    ActiveJob::Base.include(ActiveJob::EnqueueAfterTransactionCommit)
  end

  around do |example|
    RecordingJob.enqueue_after_transaction_commit = :default
    example.run
  ensure
    RecordingJob.enqueue_after_transaction_commit = ActiveJob::Base.enqueue_after_transaction_commit
  end

  after { @server&.ensure_stopped }

  let(:order_class) { Class.new(ActiveRecord::Base) { self.table_name = 'spec_orders' } }

  def produced
    expect(Karafka.producer.flush(10_000)).to be(true)
    topic_size(topic, 1)
  end

  it 'produces the job after the commit and never after a rollback' do
    ActiveRecord::Base.transaction do
      order_class.create!(name: 'committed')
      job_for(topic, RecordingJob, 'committed').enqueue
      expect(produced).to eq(0) # still inside the transaction
    end
    expect(produced).to eq(1)

    ActiveRecord::Base.transaction do
      order_class.create!(name: 'rolled back')
      job_for(topic, RecordingJob, 'rolled-back').enqueue
      raise ActiveRecord::Rollback
    end
    expect(produced).to eq(1)
    expect(order_class.pluck(:name)).to eq(['committed'])

    # A last job outside any transaction: one partition runs in order, so once it ran,
    # anything produced before it ran too.
    job_for(topic, RecordingJob, 'outside').enqueue
    @server = ServerProcess.new(topics: [topic], group: group, output: output).start
    wait_until(message: 'the last job') { JobRecorder.read(output).any? { |r| r['id'] == 'outside' } }
    expect(JobRecorder.read(output).map { |r| r['id'] }).to eq(%w[committed outside])
    expect(@server.stop('TERM').exitstatus).to eq(0)
  end

  it 'dispatches a perform_all_later inside a transaction with the transaction (Rails does not defer it)' do
    # Rails 7.2 defers only `perform_later` / `enqueue`; ActiveJob.perform_all_later goes to
    # the adapter at once, inside the transaction, as with every other adapter.
    ActiveRecord::Base.transaction do
      ActiveJob.perform_all_later([job_for(topic, RecordingJob, 'bulk')])
      expect(produced).to eq(1)
    end
  end
end
