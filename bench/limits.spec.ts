import { parseConsumerPerf, parseProducerPerf, tsvCell } from './limits';

describe('limits: parsing Kafka perf tool output', () => {
  it('takes the final summary line of producer-perf', () => {
    const out = [
      '9831 records sent, 1966.2 records/sec (0.49 MB/sec), 1200.3 ms avg latency, 2000.0 ms max latency.',
      '20000 records sent, 3359.086329 records/sec (0.84 MB/sec), 615.00 ms avg latency, 2300.00 ms max latency, 500 ms 50th, 1900 ms 95th, 2200 ms 99th, 2300 ms 99.9th.',
    ].join('\n');
    expect(parseProducerPerf(out)).toEqual({ records: 20000, records_per_s: 3359.086329, mb_per_s: 0.84, avg_latency_ms: 615 });
  });

  it('prefers consumer-perf fetch rates (without the group join time)', () => {
    const out = [
      'WARN something',
      'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
      '2026-11-29 05:59:01:123, 2026-11-29 05:59:03:456, 5.0163, 2.1500, 20000, 8571.4286, 1200, 1133, 4.4274, 17652.2507',
    ].join('\n');
    expect(parseConsumerPerf(out)).toEqual({ records: 20000, records_per_s: 17652.2507, mb_per_s: 4.4274 });
  });

  it('fails loudly when the tool printed no result', () => {
    expect(() => parseProducerPerf('Exception in thread main')).toThrow(/no summary/);
    expect(() => parseConsumerPerf('nothing')).toThrow(/no header/);
  });
});

describe('limits: TSV cells for the events table', () => {
  const e = { event_id: 'e1', user_id: 'u\t1', ts: Date.UTC(2026, 0, 2, 3, 4, 5, 678), price: 12.5 };
  it('maps event fields and escapes TSV', () => {
    expect(tsvCell('event_id', 'String', e, 0)).toBe('e1');
    expect(tsvCell('user_key', 'String', e, 0)).toBe('u\\t1');
    expect(tsvCell('ts', 'DateTime', e, 0)).toBe('2026-01-02 03:04:05');
    expect(tsvCell('ts_ms', 'UInt16', e, 0)).toBe('678');
    expect(tsvCell('price', 'Nullable(Float64)', e, 0)).toBe('12.5');
  });
  it('fills missing columns with a value of their type', () => {
    expect(tsvCell('rating', 'Nullable(UInt8)', e, 0)).toBe('\\N');
    expect(tsvCell('prop_keys', 'Array(String)', e, 0)).toBe('[]');
    expect(tsvCell('device', 'LowCardinality(String)', e, 0)).toBe('');
    expect(tsvCell('quantity', 'UInt32', e, 0)).toBe('1');
    expect(tsvCell('kafka_offset', 'UInt64', e, 7)).toBe('7');
  });
});
