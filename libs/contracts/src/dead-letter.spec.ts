import { Codecs } from './codecs';
import { ContractDecodeError, ContractEncodeError } from './contract-errors';
import { buildDeadLetter } from './dead-letter';

describe(buildDeadLetter.name, () => {
  it('carries the original bytes, coordinates, reason and time, and encodes as a DeadLetter', () => {
    const before = Date.now();
    const payload = Buffer.from([0xc3, 0x01, 1, 2, 3]);
    const dl = buildDeadLetter({
      payload,
      error: new ContractDecodeError(
        'unknown_fingerprint',
        'unknown writer schema fingerprint 0102',
        'ClickEvent',
        '0102',
      ),
      reasonCode: 'unknown_fingerprint',
      stage: 'decode',
      service: 'feature-aggregator',
      source: {
        topic: 'clickstream.events.v1',
        partition: 4,
        offset: 9_007_199_254_740_993n,
        key: Buffer.from('u-1'),
        headers: { trace: Buffer.from('abc'), tags: ['a', Buffer.from('b')], empty: undefined },
      },
    });

    expect(dl).toEqual({
      payload,
      source_topic: 'clickstream.events.v1',
      source_partition: 4,
      source_offset: '9007199254740993',
      key: Buffer.from('u-1'),
      error: 'unknown writer schema fingerprint 0102',
      reason_code: 'unknown_fingerprint',
      field: null,
      stage: 'decode',
      service: 'feature-aggregator',
      failed_at: expect.any(Number) as unknown,
      headers: { trace: 'abc', tags: 'a,b' },
    });
    expect(dl.failed_at).toBeGreaterThanOrEqual(before);
    expect(Codecs.DeadLetter.decode(Codecs.DeadLetter.encode(dl))).toEqual(dl);
  });

  it('works without a Kafka source (an HTTP body) and with a string error', () => {
    const dl = buildDeadLetter({
      payload: '{"event_id": 1}',
      error: 'event_id: must be a string',
      reasonCode: 'validation',
      field: 'event_id',
      stage: 'validate',
      service: 'ingestor',
      failedAt: 5,
    });
    expect(dl).toMatchObject({
      payload: Buffer.from('{"event_id": 1}'),
      source_topic: null,
      source_partition: null,
      source_offset: null,
      key: null,
      error: 'event_id: must be a string',
      field: 'event_id',
      failed_at: 5,
      headers: {},
    });
    expect(Codecs.DeadLetter.decode(Codecs.DeadLetter.encode(dl))).toEqual(dl);
  });

  it('takes the field from a ContractEncodeError when none is given', () => {
    let error: unknown;
    try {
      Codecs.ClickEvent.encode({ event_id: 'e', event_type: 'view', ts: 'now' } as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ContractEncodeError);
    const dl = buildDeadLetter({
      payload: Buffer.alloc(0),
      error,
      reasonCode: 'processing',
      stage: 'encode',
      service: 'ingestor',
    });
    expect(dl.field).toBe('ts');
    expect(dl.error).toMatch(/invalid ClickEvent: ts: expected long/);
  });

  it('stringifies errors that are not Errors', () => {
    const dl = buildDeadLetter({
      payload: Buffer.alloc(0),
      error: { code: 42 },
      reasonCode: 'processing',
      stage: 's',
      service: 'x',
    });
    expect(dl.error).toBe('{"code":42}');
  });
});
