import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@app/contracts';
import { generateEvents, replay } from '@app/datasets';
import { waitFor } from '@app/testing';
import { eventIdOf, IngestorHarness } from './ingestor-harness';

/**
 * The replay CLI's two ways into the real ingestor: NDJSON over HTTP (accepted once, a second run
 * answered as duplicates) and raw ClickEvents on Kafka (validated onto clickstream.events.v1).
 * Plus the HTTP client's handling of 503 + Retry-After, against a tiny stand-in server.
 */
describe('replay into the ingestor', () => {
  const h = new IngestorHarness('replayhttp');
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  async function topicSize(topic: string): Promise<number> {
    const admin = new Kafka({ clientId: 'replay-test', brokers: h.ns.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const offsets = await waitFor(() => admin.fetchTopicOffsets(topic), { timeoutMs: 15_000, what: `offsets of ${topic}` });
      return offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
    } finally {
      await admin.disconnect();
    }
  }

  it('--to http: every generated event accepted once; a second run is all duplicates', async () => {
    const gen = { seed: 21, users: 25, days: 1, labelFraction: 0 };
    const ids = [...generateEvents({ seed: 21, users: 25, days: 1 })].map((e) => e.event_id);
    const env = { ...h.ns.env, INGESTOR_URL: `http://127.0.0.1:${h.port}`, PORTRAIT_INGEST_KEY: h.key };
    const first = await replay({ format: 'generator', generator: gen, to: 'http', env, batchSize: 100 });
    expect(first).toMatchObject({ events: ids.length, rejected: 0, duplicates: 0, errors: 0 });
    // At least once on the topic: a send whose acknowledgement outlived the ingestor's produce
    // timeout is answered 503, retried by replay and may then land twice; consumers dedup by
    // event_id. What must hold: every event arrives, and nothing else does.
    const expected = new Set(ids);
    await waitFor(() => new Set(h.events.messages.map(eventIdOf)).size >= expected.size, { what: 'every event on the topic', timeoutMs: 60_000 });
    expect(new Set(h.events.messages.map(eventIdOf))).toEqual(expected);
    const afterFirst = await topicSize(h.topic(Topics.ClickstreamEvents));

    const second = await replay({ format: 'generator', generator: gen, to: 'http', env, batchSize: 100 });
    expect(second).toMatchObject({ duplicates: ids.length, rejected: 0 });
    // The ingestor answers 202 once its outputs are acknowledged: nothing more was forwarded.
    expect(await topicSize(h.topic(Topics.ClickstreamEvents))).toBe(afterFirst);
  });

  it('--to kafka: raw ClickEvents are validated by the ingestor onto clickstream.events.v1', async () => {
    const gen = { seed: 22, users: 20, days: 1, labelFraction: 0 };
    const ids = new Set([...generateEvents({ seed: 22, users: 20, days: 1 })].map((e) => e.event_id));
    const summary = await replay({ format: 'generator', generator: gen, to: 'kafka', env: h.ns.env });
    expect(summary.events).toBe(ids.size);
    const out = await h.events.waitFor((m) => ids.has(eventIdOf(m)), ids.size, 60_000);
    expect(new Set(out.map(eventIdOf))).toEqual(ids);
    expect(h.dlq.messages).toHaveLength(0);
  });

  it('--to http waits out 503 + Retry-After and fails clearly on 401', async () => {
    let calls = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        calls++;
        if (req.headers['x-api-key'] !== 'k') {
          res.writeHead(401).end('{"error":"unauthorized"}');
        } else if (calls === 1) {
          res.writeHead(503, { 'retry-after': '1' }).end('{"error":"unavailable"}');
        } else {
          res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":3,"duplicates":0,"rejected":[]}');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const gen = { seed: 1, users: 1, days: 1, labelFraction: 0 };
      const t0 = Date.now();
      const ok = await replay({ format: 'generator', generator: gen, max: 3, to: 'http', env: { INGESTOR_URL: url, PORTRAIT_INGEST_KEY: 'k' } });
      expect(ok.events).toBe(3);
      expect(calls).toBe(2);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      await expect(
        replay({ format: 'generator', generator: gen, max: 3, to: 'http', env: { INGESTOR_URL: url, PORTRAIT_INGEST_KEY: 'wrong' } }),
      ).rejects.toThrow(/answered 401/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
