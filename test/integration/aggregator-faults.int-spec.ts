import { createServer, Server, Socket, connect } from 'node:net';
import { Codecs, exampleClickEvent, Topics } from '@app/contracts';
import { freePort, waitFor } from '@app/testing';
import { AggregatorHarness, expectedFeatures, generateStream } from './aggregator-harness';

/**
 * A TCP proxy in front of ClickHouse that the test can take down and bring back: closing it refuses
 * new connections and cuts open ones — a real outage as far as the aggregator can tell, without
 * touching the shared ClickHouse server.
 */
class ClickHouseProxy {
  private server: Server | null = null;
  private sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target = { host: '127.0.0.1', port: Number(new URL(process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123').port || 8123) },
  ) {}

  up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  down(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

/** Outage length; a minute in the issue, shorter by default to keep the suite quick. */
const OUTAGE_MS = Number(process.env.AGGREGATOR_TEST_OUTAGE_MS ?? 15000);

describe('feature aggregator: bad input and ClickHouse outages', () => {
  const h = new AggregatorHarness('aggfault');
  let proxy: ClickHouseProxy;

  beforeAll(async () => {
    proxy = new ClickHouseProxy(await freePort());
    await proxy.up();
  });

  afterAll(async () => {
    await h.close();
    await proxy.down();
  });

  it('dead-letters poison records with their coordinates and keeps going', async () => {
    const agg = await h.startAggregator({ CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}`, AGGREGATOR_WRITER_MAX_DELAY_MS: '30' });
    const [dlq, features] = await Promise.all([h.reader(Topics.ClickstreamDlq), h.reader(Topics.UserFeatures)]);
    const user = `${h.ns.id}-poison`;
    const good = (i: number) => exampleClickEvent({ event_id: `${user}-${i}`, user_id: user, anonymous_id: null, event_type: 'view', ts: Date.UTC(2026, 9, 1) + i });
    await h.produceRaw([
      { key: user, value: Codecs.ClickEvent.encode(good(1)) },
      { key: user, value: Buffer.from('definitely not avro') },
      // Decodes, but no feature (nor ClickHouse DateTime) can use a time in the year 255000.
      { key: user, value: Codecs.ClickEvent.encode(exampleClickEvent({ event_id: `${user}-bad`, user_id: user, ts: 8e15 })) },
      { key: user, value: Codecs.ClickEvent.encode(good(2)) },
    ]);
    const dead = (await dlq.waitFor(() => true, 2, 60000)).map((m) => Codecs.DeadLetter.decode(m.value!));
    expect(dead.map((d) => d.reason_code).sort()).toEqual(['not_single_object', 'validation:ts_out_of_range']);
    for (const d of dead) {
      expect(d).toMatchObject({ source_topic: h.topic(Topics.ClickstreamEvents), service: 'feature-aggregator' });
      expect(d.source_partition).toEqual(expect.any(Number));
      expect(['1', '2']).toContain(d.source_offset);
    }
    const f = await features.waitFor((m) => m.key?.toString() === user && Codecs.UserFeatures.decode(m.value!).features.views_30d === 2, 1, 60000);
    expect(Codecs.UserFeatures.decode(f[0].value!).event_count).toBe(2);
    expect(agg.exitCode).toBeNull();
  });

  it('pauses while ClickHouse is unreachable and loses nothing', async () => {
    const agg = h.processes[0];
    // By topic, not by position: the first test starts its readers side by side.
    const features = h.readers.find((r) => r.topic === h.topic(Topics.UserFeatures))!;
    const events = generateStream(`${h.ns.id}-o`, 30, 20, 3);
    const half = Math.floor(events.length / 2);
    await h.produce(events.slice(0, half));
    await h.waitForFeatures(features, expectedFeatures(events.slice(0, half)));
    const firstHalf = new Set(events.slice(0, half).map((e) => e.event_id)).size;
    const storedBefore = await waitFor(
      async () => {
        const n = await h.count(`SELECT count() AS c FROM events FINAL WHERE user_id LIKE '${h.ns.id}-o-%'`);
        return n === firstHalf ? n : undefined;
      },
      { what: 'the first half stored' },
    );

    await proxy.down();
    const outageStart = Date.now();
    await h.produce(events.slice(half));
    // The service notices (its readiness check pings ClickHouse through the proxy)...
    await waitFor(
      async () => {
        const r = await fetch(`http://127.0.0.1:${agg.port}/health/ready`);
        return r.status !== 200;
      },
      { what: 'aggregator to report ClickHouse unreachable', timeoutMs: 30000 },
    );
    // ...and, for the rest of the outage, stores nothing and does not crash.
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    expect(await h.count(`SELECT count() AS c FROM events FINAL WHERE user_id LIKE '${h.ns.id}-o-%'`)).toBe(storedBefore);
    expect(agg.exitCode).toBeNull();

    await proxy.up();
    await h.waitForFeatures(features, expectedFeatures(events));
    const unique = new Set(events.map((e) => e.event_id)).size;
    await waitFor(async () => (await h.count(`SELECT count() AS c FROM events FINAL WHERE user_id LIKE '${h.ns.id}-o-%'`)) === unique, {
      what: 'every event of the outage stored once',
      timeoutMs: 60000,
    });
    // The outage itself, the consumer's back-off (up to 30 s between retries) and the catch-up
    // need more than the tier's default 120 s on a loaded 2-core machine.
  }, 300_000);
});
