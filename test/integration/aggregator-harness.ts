import { Kafka, logLevel, Partitioners, Producer } from 'kafkajs';
import { ClickHouseStore } from '@app/clickhouse';
import { ClickEvent, Codecs, exampleClickEvent, Topics, UserFeatures } from '@app/contracts';
import { toFeatureEvent, UserState } from '@app/features';
import { freePort, ServiceProcess, TestNamespace, testNamespace, TopicReader, waitFor } from '@app/testing';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Deterministic PRNG (mulberry32) so a failing run reproduces. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ['view', 'view', 'view', 'click', 'cart_add', 'purchase', 'favorite', 'review', 'like', 'follow', 'search', 'cart_remove', 'share', 'comment'];

/**
 * A stream of events for `users` users over ~3 days with everything the aggregator must get
 * right: out-of-order events within the lateness, events after it (too late), and redelivered
 * duplicates. Per user the order of the array is the order of production (= of consumption).
 */
export function generateStream(prefix: string, users: number, perUser: number, seed = 1, t0 = Date.UTC(2026, 9, 1)): ClickEvent[] {
  const rnd = prng(seed);
  const out: ClickEvent[] = [];
  const clocks = Array.from({ length: users }, () => t0 + Math.floor(rnd() * HOUR));
  let n = 0;
  for (let round = 0; round < perUser; round++) {
    for (let u = 0; u < users; u++) {
      clocks[u] += Math.floor(rnd() * 2 * HOUR);
      let ts = clocks[u];
      const r = rnd();
      if (r < 0.1) ts -= Math.floor(rnd() * 20 * HOUR); // late, within the 24 h lateness
      else if (r < 0.13 && round > 20) ts -= 30 * HOUR; // too late (usually)
      const type = TYPES[Math.floor(rnd() * TYPES.length)];
      const e = exampleClickEvent({
        event_id: `${prefix}-${n++}`,
        user_id: `${prefix}-u${u}`,
        anonymous_id: null,
        session_id: `s${Math.floor(ts / (3 * HOUR))}`,
        event_type: type,
        ts,
        item_id: `i${Math.floor(rnd() * 30)}`,
        category: `c${Math.floor(rnd() * 6)}>sub${Math.floor(rnd() * 3)}`,
        brand: `b${Math.floor(rnd() * 5)}`,
        price: rnd() < 0.7 ? Math.round(rnd() * 20000) / 100 : null,
        quantity: type === 'purchase' ? 1 + Math.floor(rnd() * 3) : null,
        rating: type === 'review' ? 1 + Math.floor(rnd() * 5) : null,
        ingested_at: ts + 1000,
        backfill: false,
      });
      out.push(e);
      if (rnd() < 0.05) out.push({ ...e }); // redelivered duplicate
    }
  }
  return out;
}

/** What an uninterrupted, in-order run must end with: per user, the final UserFeatures. */
export function expectedFeatures(events: readonly ClickEvent[], lateness = 24 * HOUR): Map<string, UserFeatures> {
  const states = new Map<string, UserState>();
  for (const e of events) {
    const key = e.user_id!;
    let s = states.get(key);
    if (!s) states.set(key, (s = new UserState(key, 0)));
    s.apply(toFeatureEvent(e), lateness);
  }
  return new Map([...states].map(([k, s]) => [k, s.toMessage(0)]));
}

/** Fields that legitimately differ between two emissions of the same state. */
export const comparable = (f: UserFeatures) => ({ ...f, emitted_at: 0 });

export class AggregatorHarness {
  readonly ns: TestNamespace;
  readonly store: ClickHouseStore;
  private kafka: Kafka;
  private producer: Producer | null = null;
  readonly processes: ServiceProcess[] = [];
  readonly readers: TopicReader[] = [];

  constructor(label: string) {
    this.ns = testNamespace(label);
    this.store = new ClickHouseStore({ url: this.ns.clickhouseUrl, database: this.ns.database });
    this.kafka = new Kafka({ clientId: 'agg-test', brokers: this.ns.brokers, logLevel: logLevel.NOTHING });
  }

  topic(base: string): string {
    return `${this.ns.topicPrefix}${base}`;
  }

  /** Starts one aggregator process (the first also creates the topics and the database). */
  async startAggregator(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const p = new ServiceProcess('feature-aggregator', port, { ...this.ns.env, AGGREGATOR_PORT: String(port), ...env });
    this.processes.push(p);
    await p.start();
    return p;
  }

  async reader(base: string): Promise<TopicReader> {
    // Listed before it starts: readers started side by side (Promise.all) stay in call order.
    const r = new TopicReader(this.ns.brokers, this.topic(base));
    this.readers.push(r);
    return r.start();
  }

  async produce(events: readonly ClickEvent[], chunk = 500): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await this.producer.connect();
    }
    for (let i = 0; i < events.length; i += chunk) {
      await this.producer.send({
        topic: this.topic(Topics.ClickstreamEvents),
        acks: -1,
        messages: events.slice(i, i + chunk).map((e) => ({ key: e.user_id, value: Codecs.ClickEvent.encode(e) })),
      });
    }
  }

  async produceRaw(messages: { key: string; value: Buffer }[]): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await this.producer.connect();
    }
    await this.producer.send({ topic: this.topic(Topics.ClickstreamEvents), acks: -1, messages });
  }

  /** The newest UserFeatures per user on the topic (per key, the highest offset wins). */
  static latest(reader: TopicReader): Map<string, UserFeatures> {
    const out = new Map<string, { offset: bigint; f: UserFeatures }>();
    for (const m of reader.messages) {
      const key = m.key?.toString() ?? '';
      const o = BigInt(m.offset);
      const prev = out.get(key);
      if (!prev || o > prev.offset) out.set(key, { offset: o, f: Codecs.UserFeatures.decode(m.value!) });
    }
    return new Map([...out].map(([k, v]) => [k, v.f]));
  }

  /** Waits until the newest UserFeatures of every expected user equals the expectation. */
  async waitForFeatures(reader: TopicReader, expected: Map<string, UserFeatures>, timeoutMs = 120000): Promise<Map<string, UserFeatures>> {
    let lastDiff = '';
    try {
      return await waitFor(
        () => {
          const latest = AggregatorHarness.latest(reader);
          for (const [k, want] of expected) {
            const got = latest.get(k);
            if (!got || JSON.stringify(comparable(got)) !== JSON.stringify(comparable(want))) {
              lastDiff = `${k}: got ${got ? `event_count=${got.event_count} as_of=${got.as_of}` : 'nothing'}, want event_count=${want.event_count} as_of=${want.as_of}`;
              return undefined;
            }
          }
          return latest;
        },
        { timeoutMs, intervalMs: 250, what: 'final UserFeatures of every user' },
      );
    } catch (e) {
      const tails = this.processes.map((p) => p.logTail(30)).join('\n---\n');
      throw new Error(`${e instanceof Error ? e.message : String(e)}; first mismatch ${lastDiff}\n${tails}`);
    }
  }

  async count(sqlText: string): Promise<number> {
    const r = await this.store.query<{ c: string }>(sqlText);
    return Number(r[0]?.c ?? 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.readers.map((r) => r.stop()));
    await Promise.all(this.processes.map((p) => p.stop()));
    await this.producer?.disconnect();
    await this.store.command(`DROP DATABASE IF EXISTS ${this.ns.database}`);
    await this.store.close();
  }
}
