#!/usr/bin/env python3
"""Where the fetch part of a job's latency goes, read off the wire (issue 16).

bench/latency.rb splits karafka-rs's latency at the broker's append time, a millisecond
timestamp. To see whether "stored -> librdkafka signals its queue" is the broker or the client,
this reads a loopback capture of the broker's port (tcpdump -w, full packets) taken during a
low-rate run (one job per produce request and per fetch response) and prints, in ms:

- produce request -> produce response (the broker appends);
- produce request -> the next fetch response that carries records, to the same consumer
  connection (the broker completes the waiting fetch and sends it);
- fetch response -> next fetch request on that connection (librdkafka asks again).

With the jobs' own times (BENCH_KEEP_TRACE=DIR of bench/latency.rb: enqueue and perform start
per job, the engine's stamps) it also prints, per job: enqueue -> its produce request on the
wire (the producer's linger and thread), the fetch response that brought it -> librdkafka
signals the engine's queue, and that signal -> perform starts.

Usage (repo root, broker on 9092, a low rate so each request carries one job):
  tcpdump -i lo -w /tmp/run.pcap -s 0 'tcp port 9092' &
  BENCH_SIDEKIQ=0 BENCH_RATES=100 BENCH_ROUNDS=1 BENCH_KEEP_TRACE=/tmp/trace ruby bench/latency.rb
  kill -INT %1; python3 bench/wire_split.py /tmp/run.pcap [/tmp/trace]
Only the Python standard library; Kafka frames are found by their length prefixes, requests
by api key (0 Produce, 1 Fetch) and matched to responses by correlation id.
"""
import struct
import sys
from collections import defaultdict

PRODUCE, FETCH = 0, 1


def packets(path):
    """(time, src_port, dst_port, seq, payload) of each TCP segment with data (IPv4/IPv6)."""
    with open(path, 'rb') as f:
        magic = f.read(24)
        endian = '<' if magic[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
        nanos = magic[:4] in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
        linktype = struct.unpack(endian + 'I', magic[20:24])[0]
        while True:
            header = f.read(16)
            if len(header) < 16:
                return
            sec, frac, caplen, _ = struct.unpack(endian + 'IIII', header)
            data = f.read(caplen)
            at = sec + frac / (1e9 if nanos else 1e6)
            offset = {1: 14, 113: 16, 276: 20}.get(linktype, 14)  # Ethernet, Linux SLL, SLL2
            version = data[offset] >> 4
            if version == 4:
                ihl = (data[offset] & 0x0F) * 4
                total = struct.unpack('>H', data[offset + 2:offset + 4])[0]
                if data[offset + 9] != 6:
                    continue
                tcp, end = offset + ihl, offset + total
            elif version == 6:
                if data[offset + 6] != 6:
                    continue
                tcp = offset + 40
                end = tcp + struct.unpack('>H', data[offset + 4:offset + 6])[0]
            else:
                continue
            sport, dport, seq = struct.unpack('>HHI', data[tcp:tcp + 8])
            payload = data[tcp + (data[tcp + 12] >> 4) * 4:end]
            if payload:
                yield at, sport, dport, seq, payload


def frames(path, broker):
    """(time the frame completed, connection client port, 'req'/'resp', frame bytes)."""
    buffers = defaultdict(bytes)
    expected = {}
    for at, sport, dport, seq, payload in packets(path):
        if broker not in (sport, dport):
            continue
        key = (sport, dport)
        if key in expected and seq != expected[key]:
            if (seq - expected[key]) % 2**32 > 2**31:
                continue  # a retransmission of what we have
            buffers[key] = b''  # a gap: resynchronise on the next segment
        expected[key] = (seq + len(payload)) % 2**32
        buffers[key] += payload
        buf = buffers[key]
        while len(buf) >= 4:
            size = struct.unpack('>i', buf[:4])[0]
            if size < 0 or len(buf) < 4 + size:
                break
            frame, buf = buf[4:4 + size], buf[4 + size:]
            client = dport if sport == broker else sport
            yield at, client, 'resp' if sport == broker else 'req', frame
        buffers[key] = buf


def percentiles(values):
    if not values:
        return 'n/a'
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, round((len(values) - 1) * q))] * 1000
    return 'p50 %.2f  p90 %.2f  p99 %.2f  (n=%d)' % (pick(0.5), pick(0.9), pick(0.99), len(values))


def main():
    path = sys.argv[1]
    broker = int(sys.argv[3]) if len(sys.argv) > 3 else 9092
    pending = {}  # (client, correlation) -> (api, time)
    produce = []  # (request time, response time)
    fetch_responses = defaultdict(list)  # client -> [(time, size)]
    fetch_requests = defaultdict(list)
    for at, client, kind, frame in frames(path, broker):
        if kind == 'req' and len(frame) >= 8:
            api, _version, correlation = struct.unpack('>hhi', frame[:8])
            pending[(client, correlation)] = (api, at)
            if api == FETCH:
                fetch_requests[client].append(at)
        elif kind == 'resp' and len(frame) >= 4:
            correlation = struct.unpack('>i', frame[:4])[0]
            api, sent = pending.pop((client, correlation), (None, None))
            if api == PRODUCE:
                produce.append((sent, at))
            elif api == FETCH:
                fetch_responses[client].append((at, len(frame)))
    if not produce or not fetch_responses:
        sys.exit('wire_split: no produce or fetch traffic on port %d in %s' % (broker, path))
    # The consumer connection: the one whose fetch responses vary most in size (records).
    consumer = max(fetch_responses, key=lambda c: len({s for _, s in fetch_responses[c]}))
    responses = fetch_responses[consumer]
    smallest = min(size for _, size in responses)
    with_records = [at for at, size in responses if size > smallest + 40]
    appended = [done - sent for sent, done in produce]
    delivered, refetch = [], []
    for sent, _ in produce:
        later = next((at for at in with_records if at >= sent), None)
        if later is not None:
            delivered.append(later - sent)
    requests = sorted(fetch_requests[consumer])
    for at in with_records:
        following = next((r for r in requests if r >= at), None)
        if following is not None:
            refetch.append(following - at)
    print('produce request -> produce response (append):        ', percentiles(appended))
    print('produce request -> fetch response with its records:  ', percentiles(delivered))
    print('fetch response  -> next fetch request (librdkafka):   ', percentiles(refetch))
    print('fetch responses to the consumer: %d, with records: %d' % (len(responses), len(with_records)))
    if len(sys.argv) > 2 and not sys.argv[2].isdigit():
        per_job(sys.argv[2], produce, with_records)


def per_job(trace_dir, produce, with_records):
    """Each job's enqueue, engine and start times set against the wire."""
    import bisect
    import glob
    import json
    requests = sorted(sent for sent, _ in produce)
    with_records = sorted(with_records)
    to_wire, to_signal, to_start = [], [], []
    for trace_path in sorted(glob.glob(trace_dir + '/trace-*.txt')):
        notified = {}
        for line in open(trace_path):
            topic, partition, offset, stamp, *_ = line.split()
            if stamp != 'NaN':
                notified['%s/%s/%s' % (topic, partition, offset)] = float(stamp)
        for job, due_at, started in json.load(open(trace_path.replace('trace-', 'runs-').replace('.txt', '.json'))):
            i = bisect.bisect_left(requests, due_at)
            if i < len(requests):
                to_wire.append(requests[i] - due_at)
            signal = notified.get(job)
            if signal is None:
                continue
            j = bisect.bisect_right(with_records, signal) - 1
            if j >= 0:
                to_signal.append(signal - with_records[j])
            to_start.append(started - signal)
    print('enqueue -> its produce request on the wire:          ', percentiles(to_wire))
    print('fetch response -> librdkafka signals the queue:      ', percentiles(to_signal))
    print('signalled -> perform starts (engine, worker, job):   ', percentiles(to_start))


if __name__ == '__main__':
    main()
