# frozen_string_literal: true

require 'spec_helper'

# Errors raised for a librdkafka error carry its code as karafka-rdkafka names it, and
# librdkafka's classification of it (ext/karafka_rs/src/core/error_code.rs).
RSpec.describe Karafka::Errors do
  it 'keeps a code and answers retryable? / fatal?, which are false for an error without one' do
    coded = Karafka::Errors::ProduceError.new('timed out', code: :msg_timed_out, retryable: true)
    plain = Karafka::Errors::ProduceError.new('no code')

    expect([coded.message, coded.code, coded.retryable?, coded.fatal?]).to eq(['timed out', :msg_timed_out, true, false])
    expect([plain.code, plain.retryable?, plain.fatal?]).to eq([nil, false, false])
  end

  it 'gives a DeliveryError the first failure’s code, retryable? when every failure is, fatal? when any is' do
    failures = [{ topic: 't', partition: 0, code: :msg_timed_out, message: 'late', retryable: true, fatal: false },
                { topic: 't', partition: 1, code: :fatal, message: 'fenced', retryable: false, fatal: true }]

    error = Karafka::Errors::DeliveryError.new(failures, 3)
    only_first = Karafka::Errors::DeliveryError.new(failures.first(1), 1)

    expect([error.code, error.retryable?, error.fatal?]).to eq([:msg_timed_out, false, true])
    expect(error.message).to eq('2 of 3 message(s) failed to be delivered; first: t: msg_timed_out (late)')
    expect([only_first.retryable?, only_first.fatal?]).to eq([true, false])
  end

  # No broker: a producer pointed at a closed port reports its message as timed out.
  describe 'from the native producer' do
    let(:producer) do
      Karafka::Producer.new(kafka: { 'bootstrap.servers': '127.0.0.1:1', 'message.timeout.ms': 100 },
                            max_wait_timeout: 30_000)
    end

    after { producer.close(0) }

    it 'raises a DeliveryError whose code and classification come from librdkafka' do
      expect { producer.produce_sync(topic: 'nowhere', payload: 'x') }.to raise_error(Karafka::Errors::DeliveryError) { |error|
        expect([error.code, error.retryable?, error.fatal?]).to eq([:msg_timed_out, true, false])
        expect(error.failures.first).to include(topic: 'nowhere', code: :msg_timed_out, retryable: true, fatal: false)
      }
    end

    it 'reports an async message it gave up on with its code in the error.occurred event' do
      errors = []
      producer.monitor.subscribe('error.occurred') { |event| errors << event[:error] }
      producer.produce_async(topic: 'nowhere', payload: 'x')
      producer.close(5_000)

      expect(errors.map { |e| [e.class, e.code, e.retryable?, e.fatal?] })
        .to eq([[Karafka::Errors::ProduceError, :msg_timed_out, true, false]])
    end
  end
end
