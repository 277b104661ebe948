import { Codecs } from '@app/contracts';
import { waitFor } from '@app/testing';
import { EventPipeline } from '../../apps/ingestor/src/event-pipeline.service';
import { deadLetterOf, eventIdOf, IngestorHarness } from './ingestor-harness';

/**
 * POST /v1/events against the real Kafka: partial acceptance, precise rejections, dead letters,
 * dedup, privacy, limits, and the "bad input" list — the service keeps serving throughout and
 * every valid event arrives on clickstream.events.v1 exactly once.
 */
describe('ingestor HTTP intake (real Kafka)', () => {
  const h = new IngestorHarness('inghttp', {
    INGEST_MAX_EVENTS: '500',
    INGEST_PSEUDONYMIZE_FIELDS: 'properties.email',
    INGEST_DROP_FIELDS: 'properties.phone',
    PORTRAIT_HMAC_KEY: 'a-test-hmac-key-of-32-characters',
    INGEST_RAW_CONSUMER: 'false',
  });
  const user = `u-${h.ns.id}`;
  const now = () => Date.now() - 1000;
  const ev = (id: string, extra: Record<string, unknown> = {}) => ({ event_id: `${h.ns.id}-${id}`, user_id: user, event_type: 'view', ts: now(), ...extra });
  const nd = (items: unknown[]) => items.map((i) => JSON.stringify(i)).join('\n');
  const forwarded = (suffix: string) => h.events.messages.filter((m) => eventIdOf(m) === `${h.ns.id}-${suffix}`).length;

  beforeAll(() => h.start());
  afterAll(() => h.stop());

  it('answers 401 without a valid x-api-key', async () => {
    for (const headers of [{ 'x-api-key': '' }, { 'x-api-key': 'wrong' }]) {
      const res = await h.post(nd([ev('k')]), headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'unauthorized', message: 'missing or invalid x-api-key header' });
    }
  });

  it('accepts the valid events of a mixed batch, rejects each bad one precisely and dead-letters it', async () => {
    const bad: [unknown, string][] = [
      [ev('b-type', { user_id: { id: 1 } }), 'user_id: must be a string or an integer, got an object'],
      [{ user_id: user, event_type: 'view', ts: now() }, 'event_id: required'],
      [ev('b-missing-user', { user_id: undefined }), 'user_id: required unless anonymous_id is given'],
      [ev('b-enum', { event_type: 'teleport' }), 'event_type: unknown event type "teleport"'],
      [ev('b-price', { price: -5 }), 'price: must be >= 0'],
      [ev('b-future', { ts: Date.now() + 86_400_000 }), 'ts: more than 300000 ms in the future'],
      [ev('b-proto', { properties: JSON.parse('{"__proto__":"x"}') as unknown }), 'properties.__proto__: reserved key not allowed'],
      [ev('b-huge', { query: 'q'.repeat(1_000_000) }), 'query: longer than 2048 characters'],
      [ev('b-ip', { ip: 'not-an-ip' }), 'ip: must be an IPv4 or IPv6 address'],
      ['a string', '(event): must be a JSON object, got a string'],
    ];
    const valid = [
      ev('v1'),
      ev('v2', { event_type: 'BUY', price: '12.50', item_id: 266079.0, ip: '203.0.113.77', properties: { email: 'a@b.c', phone: '555', keep: 'x' } }),
      ev('v3', { event_type: 'pv', category: '266079.0', user_agent: 'UA', extra_field: { nested: [1] } }),
    ];
    // Interleave so indices are not trivially at the end; also the "constructor" key and deep nesting.
    const items: unknown[] = [valid[0], ...bad.map((b) => b[0]), valid[1], valid[2]];
    const proto = `{"event_id":"${h.ns.id}-b-ctor","user_id":"${user}","event_type":"view","ts":${now()},"constructor":{"prototype":{"polluted":1}}}`;
    const deep = `{"event_id":"${h.ns.id}-b-deep","user_id":"${user}","event_type":"view","ts":${now()},"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const body = `${nd(items)}\n${proto}\n${deep}`;

    const res = await h.post(body);
    expect(res.status).toBe(202);
    const out = (await res.json()) as { accepted: number; duplicates: number; rejected: { index: number; reason: string }[] };
    expect(out.accepted).toBe(3);
    expect(out.duplicates).toBe(0);
    expect(out.rejected.map((r) => r.index)).toEqual([...bad.map((_, i) => i + 1), items.length, items.length + 1]);
    bad.forEach(([, reason], i) => expect(out.rejected[i].reason.startsWith(reason)).toBe(true));
    expect(out.rejected.at(-2)!.reason).toBe('constructor: reserved key not allowed');
    expect(out.rejected.at(-1)!.reason).toBe('x: nested deeper than 8 levels');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    const got = await h.events.waitFor((m) => eventIdOf(m).startsWith(`${h.ns.id}-v`), 3);
    const byId = new Map(got.map((m) => [eventIdOf(m), Codecs.ClickEvent.decode(m.value!)]));
    expect(byId.get(`${h.ns.id}-v2`)).toMatchObject({
      event_type: 'purchase', price: 12.5, currency: 'USD', item_id: '266079', ip: '203.0.113.0', source: 'http',
    });
    const v2props = byId.get(`${h.ns.id}-v2`)!.properties;
    expect(v2props.email).toMatch(/^[0-9a-f]{64}$/);
    expect(v2props.phone).toBeUndefined();
    expect(v2props.keep).toBe('x');
    expect(byId.get(`${h.ns.id}-v3`)).toMatchObject({ event_type: 'view', category: '266079', properties: { extra_field: '{"nested":[1]}' } });
    expect(got.every((m) => m.key?.toString() === user)).toBe(true);

    // Wait for these very dead letters (the topic may also hold other tests' letters, and large
    // payloads travel in separate produce requests).
    await waitFor(
      () => bad.every(([, reason]) => h.dlq.messages.map(deadLetterOf).some((d) => d.error.startsWith(reason))),
      { what: 'a dead letter for every bad event', timeoutMs: 30000 },
    );
    const letters = h.dlq.messages.map(deadLetterOf);
    const future = letters.find((d) => d.error.startsWith('ts: more than'))!;
    expect(future).toMatchObject({ reason_code: 'validation', field: 'ts', service: 'ingestor', stage: 'ingestor-http:validate' });
    expect(JSON.parse(future.payload.toString())).toMatchObject({ event_id: `${h.ns.id}-b-future` });
    // The DLQ is storage too: the IP of a rejected event is truncated there as well.
    const badIp = letters.find((d) => d.field === 'ip')!;
    expect(JSON.parse(badIp.payload.toString()).ip).toBe('(invalid ip removed)');
  });

  it('counts re-sent events as duplicates and does not forward them again', async () => {
    const first = await h.post(nd([ev('d1'), ev('d2')]));
    expect(await first.json()).toMatchObject({ accepted: 2, duplicates: 0 });
    const again = await h.post(nd([ev('d1'), ev('d2'), ev('d3'), ev('d3')]));
    expect(await again.json()).toMatchObject({ accepted: 1, duplicates: 3, rejected: [] });
    // Same user → same partition → in order: once the sentinel is there, any duplicate would be too.
    await h.post(nd([ev('d-sentinel')]));
    await h.events.waitFor((m) => eventIdOf(m) === `${h.ns.id}-d-sentinel`);
    expect([forwarded('d1'), forwarded('d2'), forwarded('d3')]).toEqual([1, 1, 1]);
  });

  it('answers 400 for unparseable bodies and invalid UTF-8, saying where', async () => {
    const broken = await h.post(`${JSON.stringify(ev('p1'))}\n{"event_id": oops}\n`);
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ error: 'invalid_json', message: expect.stringMatching(/^line 2 is not valid JSON/) });
    const utf8 = await h.post(Buffer.concat([Buffer.from('{"event_id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]));
    expect(utf8.status).toBe(400);
    expect(await utf8.json()).toMatchObject({ error: 'invalid_utf8', message: expect.stringContaining('offset 13') });
    const arr = await h.post('[{"a":1},', { 'content-type': 'application/json' });
    expect(arr.status).toBe(400);
  });

  it('answers 413 in our JSON form for a 10 MB body and for too many events', async () => {
    const big = await h.post(Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: 'body_too_large', message: expect.stringContaining('5242880 bytes') });
    const many = await h.post(nd(Array.from({ length: 501 }, (_, i) => ev(`m${i}`))));
    expect(many.status).toBe(413);
    expect(await many.json()).toMatchObject({ error: 'too_many_events' });
  });

  it('keeps serving after all of that, with readiness and metrics', async () => {
    const res = await h.post(JSON.stringify([ev('after')]), { 'content-type': 'application/json' });
    expect(res.status).toBe(202);
    await h.events.waitFor((m) => eventIdOf(m) === `${h.ns.id}-after`);
    expect((await h.get('/health/ready')).status).toBe(200);
    const metrics = await (await h.get('/metrics')).text();
    expect(metrics).toMatch(/portrait_ingest_events_total\{path="http",outcome="accepted",service="ingestor"\} \d+/);
    expect(metrics).toMatch(/portrait_ingest_events_total\{path="http",outcome="duplicate",service="ingestor"\} 3/);
    expect(metrics).toContain('portrait_ingest_dedup_bytes');
  });

  it('answers 503 with Retry-After when Kafka is unavailable (never a silent drop)', async () => {
    await h.app.get(EventPipeline).kafkaProducer!.disconnect();
    const res = await h.post(nd([ev('x-down')]));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({ error: 'unavailable' });
    expect((await h.get('/health/ready')).status).toBe(503);
  });
});

describe('ingestor HTTP intake under a full producer budget', () => {
  const h = new IngestorHarness('ingbusy', { INGEST_MAX_INFLIGHT_EVENTS: '100', INGEST_RAW_CONSUMER: 'false' });
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  it('answers 429 with Retry-After instead of buffering without bound', async () => {
    const items = Array.from({ length: 150 }, (_, i) => JSON.stringify({ event_id: `${h.ns.id}-${i}`, user_id: 'u', event_type: 'view', ts: Date.now() - 1000 }));
    const res = await h.post(items.join('\n'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ error: 'busy' });
    const ok = await h.post(items.slice(0, 50).join('\n'));
    expect(ok.status).toBe(202);
  });
});
