import { Codecs, Topics } from '@app/contracts';
import type { MessageProducer } from '@app/kafka';
import { waitFor } from '@app/testing';
import { deadLetterOf, eventIdOf, IngestorHarness } from './ingestor-harness';

/**
 * clickstream.raw.v1 → clickstream.events.v1 against the real Kafka: Avro decoding, the same
 * validation as HTTP, dead letters with coordinates for undecodable and invalid records, dedup,
 * and offsets committed once the outputs are acknowledged.
 */
describe('ingestor Kafka intake (real Kafka)', () => {
  const h = new IngestorHarness('ingkafka');
  const user = `u-${h.ns.id}`;
  let producer: MessageProducer;

  beforeAll(async () => {
    await h.start();
    producer = await h.bus.producer();
  });
  afterAll(() => h.stop());

  const raw = (id: string, extra: Record<string, unknown> = {}) =>
    Codecs.ClickEvent.encode({ event_id: `${h.ns.id}-${id}`, user_id: user, event_type: 'view', ts: Date.now() - 1000, ...extra });

  it('forwards valid raw events once and dead-letters every bad record with its coordinates', async () => {
    const valid = [
      raw('v1'),
      raw('v2', { event_type: 'Buy', price: 9.5, ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348', source: 'replay:test', backfill: true }),
      raw('v3', { item_id: '266079.0', event_type: 'cart' }),
    ];
    const garbage = Buffer.from('definitely not avro');
    const unknownFingerprint = Buffer.concat([Buffer.from([0xc3, 0x01]), Buffer.from('0123456789abcdef', 'hex'), Buffer.from([2, 0x61])]);
    const truncated = raw('t-trunc').subarray(0, 14);
    const invalid = [
      raw('b-enum', { event_type: 'teleport' }),
      raw('b-price', { price: -1 }),
      raw('b-future', { ts: Date.now() + 86_400_000 }),
      raw('b-user', { user_id: null }),
      raw('b-huge', { query: 'q'.repeat(100_000) }),
    ];
    const values = [valid[0], garbage, unknownFingerprint, ...invalid, valid[1], truncated, valid[2], raw('v1')];
    await producer.send(
      h.topic(Topics.ClickstreamRaw),
      values.map((value) => ({ key: user, value })),
    );
    await producer.send(h.topic(Topics.ClickstreamRaw), [{ key: user, value: raw('sentinel') }]);

    await h.events.waitFor((m) => eventIdOf(m) === `${h.ns.id}-sentinel`);
    const ids = h.events.messages.map(eventIdOf).filter((id) => id.startsWith(`${h.ns.id}-v`));
    expect(ids.sort()).toEqual([`${h.ns.id}-v1`, `${h.ns.id}-v2`, `${h.ns.id}-v3`]); // v1 sent twice, forwarded once
    const v2 = Codecs.ClickEvent.decode(h.events.messages.find((m) => eventIdOf(m) === `${h.ns.id}-v2`)!.value!);
    expect(v2).toMatchObject({ event_type: 'purchase', currency: 'USD', ip: '2001:db8:85a3::', source: 'replay:test', backfill: true });
    const v3 = Codecs.ClickEvent.decode(h.events.messages.find((m) => eventIdOf(m) === `${h.ns.id}-v3`)!.value!);
    expect(v3).toMatchObject({ event_type: 'cart_add', item_id: '266079', source: 'kafka' });

    const letters = (await h.dlq.waitFor(() => true, 3 + invalid.length)).map(deadLetterOf);
    const byCode = (code: string) => letters.filter((d) => d.reason_code === code);
    expect(byCode('not_single_object')).toHaveLength(1);
    expect(byCode('unknown_fingerprint')).toHaveLength(1);
    expect(byCode('corrupt_avro')).toHaveLength(1);
    expect(byCode('validation').map((d) => d.error.split(':')[0]).sort()).toEqual(['event_type', 'price', 'query', 'ts', 'user_id']);
    for (const d of letters) {
      expect(d.source_topic).toBe(h.topic(Topics.ClickstreamRaw));
      expect(d.source_partition).toEqual(expect.any(Number));
      expect(d.source_offset).toMatch(/^\d+$/);
      expect(d.key?.toString()).toBe(user);
      expect(d.service).toBe('ingestor');
      expect(d.failed_at).toBeGreaterThan(Date.now() - 120_000);
    }
    const garbageLetter = byCode('not_single_object')[0];
    expect(garbageLetter.payload.equals(garbage)).toBe(true);
    expect(garbageLetter.stage).toBe('ingestor-kafka:decode');
    expect(byCode('unknown_fingerprint')[0].error).toMatch(/0123456789abcdef|fingerprint/i);
  });

  it('commits the raw offsets once the outputs are acknowledged', async () => {
    const end = await h.bus.withAdmin((a) => a.fetchTopicOffsets(h.topic(Topics.ClickstreamRaw)));
    await waitFor(
      async () => {
        const [committed] = await h.bus.withAdmin((a) =>
          a.fetchOffsets({ groupId: `${h.ns.groupPrefix}ingestor-raw`, topics: [h.topic(Topics.ClickstreamRaw)] }),
        );
        const offsets = new Map(committed.partitions.map((p) => [p.partition, p.offset]));
        return end.every((p) => p.high === '0' || offsets.get(p.partition) === p.high);
      },
      { what: 'raw offsets committed to the end of the topic', timeoutMs: 20_000 },
    );
  });

  it('reports the raw consumer in readiness and counts outcomes per path', async () => {
    const ready = (await (await h.get('/health/ready')).json()) as { checks: Record<string, { ok: boolean }> };
    expect(ready.checks.raw_consumer?.ok).toBe(true);
    const metrics = await (await h.get('/metrics')).text();
    expect(metrics).toMatch(/portrait_ingest_events_total\{path="kafka",outcome="duplicate",service="ingestor"\} 1/);
    expect(metrics).toMatch(/portrait_ingest_dead_letters_total\{path="kafka",reason="corrupt_avro",service="ingestor"\} 1/);
  });
});
