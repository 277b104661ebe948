/**
 * `npm run bench:aggregate`: speed and memory of the feature aggregator (issue 4).
 *
 * 1. Throughput: N ClickEvents of U users pre-produced to a fresh clickstream.events.v1, then one
 *    aggregator process (dist/, as in production) drains them: every event stored in ClickHouse and
 *    its UserFeatures produced before the offsets are committed. events/s = N / time from the
 *    arrival of the first batch (the aggregator's consuming_since gauge, its own clock) to the last
 *    commit (the consumer group's offsets, polled). Timing from the first commit instead left out
 *    the work done before it, which flattered larger fetches (with 16 MB per partition, half the
 *    events); a polled counter answers late, because a batch keeps the event loop busy.
 *    That is the cold start. Then the steady state, the figure the target is about: the same
 *    process is stopped (SIGSTOP) while N more events of U other users are produced, and resumed;
 *    events/s = N / time from the resume to the last commit. A fresh process spends a good part of
 *    its first seconds compiling (TurboFan: ~2 s of CPU during the cold drain, --trace-opt), which
 *    a service running for days does once. BENCH_AGG_WARM=0 measures the cold drain only.
 * 2. Latency: a fresh aggregator fed at a steady rate (10k events/s) for D seconds; per event, the
 *    time from its ingest stamp to the emission of the first UserFeatures of its user that covers
 *    it (the emitted_at of the first message whose ingested_at ≥ the event's): p50/p99.
 * 3. Memory: M hot user states built in-process by the aggregator's own state code, K events
 *    each; heap bytes per user after a full GC (extrapolated to 1 M users).
 * Each part runs `--runs` times (default 3); the report holds medians and every run's values.
 *
 * Options (env): BENCH_AGG_EVENTS (300000), BENCH_AGG_USERS (100000), BENCH_AGG_RATE (10000),
 * BENCH_AGG_LATENCY_SECONDS (15), BENCH_AGG_MEM_USERS (1000000), BENCH_AGG_MEM_EVENTS (3),
 * BENCH_AGG_RUNS (3), BENCH_AGG_PARTS (memory,throughput,latency), BENCH_AGG_WARM (1; 0: cold drain only); `--quick` (used by `npm run bench`) shrinks everything and runs once.
 * Writes reports/bench-aggregate.json and .md.
 */
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
// @app/kafka before kafkajs: its patches (faster produce encoding and partitioning) must be
// installed before kafkajs loads, or this load generator spends the CPU the aggregator needs.
import { KafkaBus, MessageProducer } from '@app/kafka';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { ClickHouseStore } from '@app/clickhouse';
import { ALL_TOPIC_SPECS, ClickEvent, Codecs, Topics } from '@app/contracts';
import { toFeatureEvent, UserState } from '@app/features';
import { createLogger } from '@app/observability';
import { freePort, ServiceProcess, testNamespace, TestNamespace, TopicReader } from '@app/testing';
import { aggregateEvent as event } from './lib/aggregate-workload';
import { CpuMeter, infraPids } from './lib/cpu';
import { hostSpeed } from './lib/host-speed';
import { Measurement, median, writeReport } from './lib/report';

const ROOT = join(__dirname, '..', '..');
const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const envNum = (name: string, def: number, quickDef: number) => Number(process.env[name] ?? (quick ? quickDef : def));
const EVENTS = envNum('BENCH_AGG_EVENTS', 300_000, 60_000);
const USERS = envNum('BENCH_AGG_USERS', 100_000, 20_000);
const RATE = envNum('BENCH_AGG_RATE', 10_000, 10_000);
const LATENCY_SECONDS = envNum('BENCH_AGG_LATENCY_SECONDS', 15, 8);
const MEM_USERS = envNum('BENCH_AGG_MEM_USERS', 1_000_000, 200_000);
const MEM_EVENTS = envNum('BENCH_AGG_MEM_EVENTS', 3, 3);
const RUNS = envNum('BENCH_AGG_RUNS', 3, 1);
/** BENCH_AGG_WARM=0: only the cold drain (the throughput figure is then the cold one). */
const WARM = process.env.BENCH_AGG_WARM !== '0';
/** BENCH_AGG_PARTS: which parts to run (profiling one of them); the report then has NaN for the rest. */
const PARTS = new Set((process.env.BENCH_AGG_PARTS ?? 'memory,throughput,latency').split(','));
const log = (m: string) => console.error(`[bench:aggregate] ${m}`);
class Env {
  readonly ns: TestNamespace;
  readonly kafka: Kafka;
  admin: Admin | null = null;
  producer: MessageProducer | null = null;
  private bus: KafkaBus | null = null;
  proc: ServiceProcess | null = null;

  constructor(label: string) {
    this.ns = testNamespace(label);
    this.kafka = new Kafka({ clientId: 'bench-aggregate', brokers: this.ns.brokers, logLevel: logLevel.NOTHING });
  }

  topic(base: string) {
    return `${this.ns.topicPrefix}${base}`;
  }

  async setup(): Promise<void> {
    this.bus = new KafkaBus({ brokers: this.ns.brokers, clientId: 'bench-aggregate', topicPrefix: this.ns.topicPrefix, logger: createLogger('bench', 'warn') });
    await this.bus.ensureTopics(ALL_TOPIC_SPECS);
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.producer = await this.bus.producer();
  }

  async startAggregator(): Promise<ServiceProcess> {
    const port = await freePort();
    this.proc = new ServiceProcess('feature-aggregator', port, { ...this.ns.env, AGGREGATOR_PORT: String(port), LOG_LEVEL: 'warn' }, ROOT);
    children.add(this.proc);
    await this.proc.start();
    return this.proc;
  }

  async send(events: ClickEvent[]): Promise<void> {
    await this.producer!.send(
      this.topic(Topics.ClickstreamEvents),
      events.map((e) => ({ key: e.user_id, value: Codecs.ClickEvent.encode(e) })),
    );
  }

  /** Committed offsets of the aggregator's group vs the end of the events topic. */
  async progress(): Promise<{ committed: number; end: number }> {
    const topic = this.topic(Topics.ClickstreamEvents);
    const [ends, groups] = await Promise.all([
      this.admin!.fetchTopicOffsets(topic),
      this.admin!.fetchOffsets({ groupId: `${this.ns.groupPrefix}feature-aggregator`, topics: [topic] }),
    ]);
    const end = ends.reduce((n, p) => n + Number(p.high), 0);
    const committed = (groups[0]?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
    return { committed, end };
  }

  async metric(name: string): Promise<number | null> {
    if (!this.proc) return null;
    const text = await (await fetch(`http://127.0.0.1:${this.proc.port}/metrics`)).text();
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  }

  async close(): Promise<void> {
    if (this.proc) {
      await this.proc.stop();
      children.delete(this.proc);
    }
    await this.bus?.disconnect(); // its producer too
    const topics = ALL_TOPIC_SPECS.map((s) => this.topic(s.name));
    await this.admin?.deleteTopics({ topics }).catch(() => undefined);
    await this.admin?.disconnect();
    const store = new ClickHouseStore({ url: this.ns.clickhouseUrl, database: this.ns.database });
    await store.command(`DROP DATABASE IF EXISTS ${this.ns.database}`).catch(() => undefined);
    await store.close();
  }
}

/** CPU seconds during a drain, per process (the aggregator's main thread apart), where /proc shows them. */
type DrainCpu = Partial<Record<'aggregator' | 'aggregator_main_thread' | 'kafka' | 'clickhouse', number>>;

interface ThroughputRun {
  /** The steady-state drain (a process that has already drained as many events): the target's figure. */
  eventsPerS: number;
  cpuSeconds: DrainCpu;
  /** The first drain, by a fresh process (compiling its code as it goes). */
  coldEventsPerS: number;
  coldCpuSeconds: DrainCpu;
  rssBytes: number | null;
  users: number;
  /** Inserts into the events table during the steady drain (the cold one without WARM), and their rows. */
  inserts: { count: number; rows: number } | null;
  /** UserFeatures messages emitted in that drain (coalescing: fewer than events when a user's events are emitted together). */
  emitted: number | null;
}

async function throughputRun(run: number): Promise<ThroughputRun> {
  const env = new Env(`bagg${run}`);
  let pid: number | null = null;
  try {
    await env.setup();
    const perUser = Math.max(1, Math.floor(EVENTS / USERS));
    const total = perUser * USERS;
    /** The workload: event i of every user in turn (so users interleave), `prefix` naming the users. */
    const produce = async (prefix: string) => {
      const t0 = Date.UTC(2026, 9, 1);
      let batch: ClickEvent[] = [];
      const pending: Promise<void>[] = [];
      for (let i = 0; i < perUser; i++) {
        for (let u = 0; u < USERS; u++) {
          batch.push(event(prefix, u, i, t0 + i * 60_000 + u, t0 + i * 60_000 + u + 500));
          if (batch.length === 5000) {
            pending.push(env.send(batch));
            batch = [];
            if (pending.length >= 4) await pending.shift();
          }
        }
      }
      pending.push(env.send(batch));
      await Promise.all(pending);
    };
    /** Waits until the group has committed `n` events in all; the time it saw that. */
    const drained = async (n: number, phase: string): Promise<number> => {
      let lastLog = Date.now();
      const deadline = Date.now() + 10 * 60_000;
      for (;;) {
        const p = await env.progress();
        if (p.committed >= n) return Date.now();
        if (Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          log(`run ${run} ${phase}: committed ${p.committed}/${n}, handled ${await env.metric('portrait_aggregator_events_total')}\n${env.proc?.logTail(5) ?? ''}`);
        }
        if (Date.now() > deadline) throw new Error(`aggregator did not drain ${n} events in 10 min:\n${env.proc?.logTail(30) ?? ''}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const perEvent = (cpu: DrainCpu) => Object.entries(cpu).map(([k, v]) => `${k} ${((v / total) * 1e6).toFixed(1)}`).join(', ');

    // Cold: a fresh process drains a backlog of `total` events.
    await produce(`${env.ns.id}c`);
    log(`run ${run}: ${total} events of ${USERS} users produced; starting the aggregator`);
    // CPU sampled from the spawn on (consumption may begin seconds before readiness is seen), read
    // for the same window as the rate: first batch → last commit.
    const starting = env.startAggregator();
    for (let i = 0; i < 2000 && pid === null; i++) {
      pid = env.proc?.pid ?? null;
      if (pid === null) await Promise.race([starting, new Promise((r) => setTimeout(r, 5))]);
    }
    const infra = infraPids(ROOT);
    const meter = new CpuMeter({
      aggregator: { pid },
      aggregator_main_thread: { pid, tid: pid ?? undefined },
      kafka: { pid: infra.kafka },
      clickhouse: { pid: infra.clickhouse },
    }).start();
    await starting;
    const coldDone = await drained(total, 'cold');
    const since = ((await env.metric('portrait_aggregator_consuming_since_timestamp_seconds')) ?? 0) * 1000;
    const coldEventsPerS = since > 0 && coldDone > since ? total / ((coldDone - since) / 1000) : 0;
    if (since > 0 && since < meter.startedAt) log(`run ${run}: consuming began ${meter.startedAt - since} ms before the aggregator was ready: no CPU figures`);
    log(`run ${run} cold: ${Math.round(coldEventsPerS)} events/s`);

    // Steady state: the same process, stopped (SIGSTOP: its compiled code, connections and group
    // membership stay) while as many events of other users are produced, then resumed.
    const insertsSoFar = async () => {
      const count = await env.metric('portrait_aggregator_events_insert_rows_count');
      const rows = await env.metric('portrait_aggregator_events_insert_rows_sum');
      const emitted = await env.metric('portrait_aggregator_ingest_to_emit_seconds_count');
      return count === null || rows === null || emitted === null ? null : { count, rows, emitted };
    };
    const coldInserts = await insertsSoFar();
    let inserts = coldInserts;
    let eventsPerS = coldEventsPerS;
    let cpuSeconds: DrainCpu | null = null;
    if (WARM && pid !== null) {
      process.kill(pid, 'SIGSTOP');
      const stoppedAt = Date.now();
      try {
        await produce(env.ns.id);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // Well within the group's session timeout (30 s): the resumed member keeps its partitions.
      log(`run ${run}: aggregator stopped for ${Date.now() - stoppedAt} ms while ${total} more events were produced`);
      const resumed = Date.now();
      const done = await drained(2 * total, 'steady');
      meter.stop();
      eventsPerS = total / ((done - resumed) / 1000);
      cpuSeconds = meter.between(resumed, done);
      const all = await insertsSoFar();
      inserts = all && coldInserts ? { count: all.count - coldInserts.count, rows: all.rows - coldInserts.rows, emitted: all.emitted - coldInserts.emitted } : null;
      log(`run ${run} steady: ${Math.round(eventsPerS)} events/s; CPU µs per event: ${perEvent(cpuSeconds)}; inserts ${inserts?.count}, UserFeatures ${inserts?.emitted}`);
    } else meter.stop();
    // Read once the meter has sampled past the window's end.
    const coldCpuSeconds: DrainCpu = since > 0 ? meter.between(since, coldDone) : {};
    log(`run ${run} cold: CPU µs per event: ${perEvent(coldCpuSeconds)}`);
    cpuSeconds ??= coldCpuSeconds;
    const rssBytes = await env.metric('portrait_process_resident_memory_bytes');
    log(`run ${run}: ${Math.round(eventsPerS)} events/s (cold ${Math.round(coldEventsPerS)}), rss ${rssBytes}`);
    return {
      eventsPerS,
      cpuSeconds,
      coldEventsPerS,
      coldCpuSeconds,
      rssBytes,
      users: USERS,
      inserts: inserts && { count: inserts.count, rows: inserts.rows },
      emitted: inserts?.emitted ?? null,
    };
  } finally {
    if (pid !== null) {
      try {
        process.kill(pid, 'SIGCONT'); // never leave it stopped: it could not stop
      } catch {
        // gone
      }
    }
    await env.close();
  }
}

async function latencyRun(run: number): Promise<{ p50: number; p99: number; max: number; events: number; achievedRate: number }> {
  const env = new Env(`blat${run}`);
  let reader: TopicReader | null = null;
  try {
    await env.setup();
    await env.startAggregator();
    reader = await new TopicReader(env.ns.brokers, env.topic(Topics.UserFeatures)).start();
    // Warm-up: the group has joined and partitions are assigned once one event comes out.
    await env.send([event(`${env.ns.id}w`, 0, 0, Date.now(), Date.now())]);
    await reader.waitFor(() => true, 1, 60000);
    const users = Math.min(USERS, RATE * 2);
    const sent = new Map<string, number[]>(); // user → ingest stamps, increasing
    // Open loop with catch-up: every tick sends what the target rate owes by now, so a late timer
    // or a slow send does not lower the input rate (skipped ticks used to: ~8.7k/s for 10k/s).
    const tick = 50;
    const start = Date.now();
    let n = 0;
    const inflight: Promise<void>[] = [];
    while (Date.now() - start < LATENCY_SECONDS * 1000) {
      const now = Date.now();
      const due = Math.floor(((now - start + tick) / 1000) * RATE);
      const batch: ClickEvent[] = [];
      for (; n < due; n++) {
        const u = (n * 7919) % users;
        const e = event(env.ns.id, u, n, now, now);
        batch.push(e);
        const list = sent.get(e.user_id!) ?? [];
        list.push(now);
        sent.set(e.user_id!, list);
      }
      if (batch.length > 0) inflight.push(env.send(batch));
      if (inflight.length > 20) await inflight.shift();
      const next = start + Math.ceil((Date.now() - start + 1) / tick) * tick;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    await Promise.all(inflight);
    const achievedRate = n / ((Date.now() - start) / 1000);
    // Wait until every event is committed (features produced before the commit).
    for (;;) {
      const p = await env.progress();
      if (p.committed >= p.end) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const ends = await env.admin!.fetchTopicOffsets(env.topic(Topics.UserFeatures));
    const endTotal = ends.reduce((s, p) => s + Number(p.high), 0);
    for (let i = 0; i < 600 && reader.messages.length < endTotal; i++) await new Promise((r) => setTimeout(r, 100));
    const emitted = new Map<string, { ing: number; em: number }[]>();
    for (const m of reader.messages) {
      const f = Codecs.UserFeatures.decode(m.value!);
      const list = emitted.get(f.user_id) ?? [];
      list.push({ ing: f.ingested_at, em: f.emitted_at });
      emitted.set(f.user_id, list);
    }
    const lat: number[] = [];
    for (const [user, stamps] of sent) {
      const msgs = (emitted.get(user) ?? []).sort((a, b) => a.em - b.em);
      for (const s of stamps) {
        const hit = msgs.find((m) => m.ing >= s);
        if (hit) lat.push(hit.em - s);
      }
    }
    lat.sort((a, b) => a - b);
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
    log(`run ${run}: ${n} events at ${Math.round(achievedRate)}/s, latency p50 ${q(0.5)} ms p99 ${q(0.99)} ms (${lat.length} matched)`);
    return { p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] ?? NaN, events: lat.length, achievedRate };
  } finally {
    await reader?.stop();
    await env.close();
  }
}

function memoryRun(run: number): { bytesPerUser: number; bytesPerEvent: number } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  const users = new Map<string, UserState>();
  const t0 = Date.UTC(2026, 9, 1);
  for (let u = 0; u < MEM_USERS; u++) {
    // Fresh strings per user/event, as decoding from Kafka produces them.
    const key = `r${run}-user-${u}`;
    const s = new UserState(key, u % 6);
    for (let i = 0; i < MEM_EVENTS; i++) s.apply(toFeatureEvent(event(`r${run}`, u, i, t0 + i * 60_000, t0 + i * 60_000 + 1)));
    users.set(key, s);
  }
  gc();
  const used = process.memoryUsage().heapUsed - before;
  const bytesPerUser = used / users.size;
  log(`run ${run}: ${users.size} users x ${MEM_EVENTS} events: ${(used / 2 ** 20).toFixed(0)} MiB heap, ${Math.round(bytesPerUser)} B/user`);
  users.clear();
  return { bytesPerUser, bytesPerEvent: bytesPerUser / MEM_EVENTS };
}

/** Median CPU µs per event of each process in the throughput runs, and the rate that work would fill the cores at. */
function cpuBudget(tp: { cpuSeconds: DrainCpu }[]): Measurement[] {
  const per = (k: keyof DrainCpu) => {
    const xs = tp.map((t) => t.cpuSeconds[k]).filter((x): x is number => x !== undefined);
    return xs.length === tp.length && xs.length > 0 ? { value: (median(xs) / EVENTS) * 1e6, runs: xs.map((x) => ((x / EVENTS) * 1e6).toFixed(1)) } : null;
  };
  const out: Measurement[] = [];
  const labels: [keyof DrainCpu, string][] = [
    ['aggregator', `CPU per event in the throughput runs${WARM ? ' (steady state)' : ''}: aggregator, all threads`],
    ['aggregator_main_thread', 'CPU per event: aggregator main thread'],
    ['kafka', 'CPU per event: Kafka broker'],
    ['clickhouse', 'CPU per event: ClickHouse server'],
  ];
  for (const [k, name] of labels) {
    const p = per(k);
    if (p) out.push({ name, value: p.value, unit: 'µs', note: `runs: ${p.runs.join(', ')}` });
  }
  const [a, kf, ch] = [per('aggregator'), per('kafka'), per('clickhouse')];
  if (a && kf && ch) {
    out.push({
      name: 'ceiling of this machine at that CPU per event',
      value: (cpus().length * 1e6) / (a.value + kf.value + ch.value),
      unit: 'events/s',
      note: `${cpus().length} cores / (aggregator + Kafka + ClickHouse µs per event)`,
    });
  }
  return out;
}

/** The aggregator's CPU per event in the cold drains (compilation included), beside the steady state's. */
/** How the events reached ClickHouse: its CPU per event grows with the number of inserts (a part each). */
function insertCounts(tp: ThroughputRun[]): Measurement[] {
  const runs = tp.map((t) => t.inserts).filter((x): x is { count: number; rows: number } => x !== null && x.count > 0);
  if (runs.length === 0) return [];
  const emitted = tp.map((t) => t.emitted).filter((x): x is number => x !== null);
  return [
    {
      name: `UserFeatures emitted per drain of ${tp[0].users * Math.max(1, Math.floor(EVENTS / USERS))} events (${WARM ? 'steady state' : 'cold start'})`,
      value: median(emitted),
      unit: 'messages',
      note: `runs: ${emitted.join(', ')}; one per user and flush: a user's events handled before the same flush share one`,
    },
    {
      name: `inserts into the events table per drain (${WARM ? 'steady state' : 'cold start'})`,
      value: median(runs.map((r) => r.count)),
      unit: 'inserts',
      note: `runs: ${runs.map((r) => r.count).join(', ')}; mean rows per insert: ${runs.map((r) => Math.round(r.rows / r.count)).join(', ')}`,
    },
  ];
}

function coldCpu(tp: ThroughputRun[]): Measurement[] {
  const xs = tp.map((t) => t.coldCpuSeconds.aggregator).filter((x): x is number => x !== undefined);
  if (xs.length !== tp.length || xs.length === 0) return [];
  return [{ name: 'CPU per event, cold start: aggregator, all threads', value: (median(xs) / EVENTS) * 1e6, unit: 'µs', note: `runs: ${xs.map((x) => ((x / EVENTS) * 1e6).toFixed(1)).join(', ')}` }];
}

/** Aggregator processes started by this run: stopped on Ctrl-C / SIGTERM too, never orphaned. */
const children = new Set<ServiceProcess>();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void Promise.all([...children].map((c) => c.stop(true))).finally(() => process.exit(130));
  });
}

async function main() {
  log(`quick=${quick} events=${EVENTS} users=${USERS} rate=${RATE}/s latency=${LATENCY_SECONDS}s mem_users=${MEM_USERS} runs=${RUNS}`);
  const speedBefore = hostSpeed();
  log(`host speed (CPU ms of fixed work): ${JSON.stringify(speedBefore)}`);
  const mem = [];
  if (PARTS.has('memory')) for (let r = 1; r <= RUNS; r++) mem.push(memoryRun(r));
  const tp = [];
  if (PARTS.has('throughput')) for (let r = 1; r <= RUNS; r++) tp.push(await throughputRun(r));
  const lat = [];
  if (PARTS.has('latency')) for (let r = 1; r <= RUNS; r++) lat.push(await latencyRun(r));
  const speedAfter = hostSpeed();

  const bytesPerUser = median(mem.map((m) => m.bytesPerUser));
  const rss = tp.map((t) => t.rssBytes).filter((x): x is number => x !== null);
  const measurements: Measurement[] = [
    {
      name: WARM ? 'throughput per process, steady state (consume → ClickHouse → UserFeatures)' : 'throughput per process, cold start (consume → ClickHouse → UserFeatures)',
      value: median(tp.map((t) => t.eventsPerS)),
      unit: 'events/s',
      target: { op: '>=', value: 50_000 },
      note: `runs: ${tp.map((t) => Math.round(t.eventsPerS)).join(', ')}`,
    },
    ...(WARM
      ? [
          {
            name: 'throughput per process, cold start (a fresh process, the same number of events)',
            value: median(tp.map((t) => t.coldEventsPerS)),
            unit: 'events/s',
            note: `runs: ${tp.map((t) => Math.round(t.coldEventsPerS)).join(', ')}`,
          },
        ]
      : []),
    { name: `p99 ingest → UserFeatures emitted at ${RATE} events/s`, value: median(lat.map((l) => l.p99)), unit: 'ms', target: { op: '<=', value: 1000 }, note: `runs: ${lat.map((l) => l.p99).join(', ')}` },
    { name: `p50 ingest → UserFeatures emitted at ${RATE} events/s`, value: median(lat.map((l) => l.p50)), unit: 'ms', note: `runs: ${lat.map((l) => l.p50).join(', ')}` },
    { name: 'achieved input rate in the latency runs', value: median(lat.map((l) => l.achievedRate)), unit: 'events/s' },
    { name: `hot state per active user (${MEM_EVENTS} events each)`, value: bytesPerUser, unit: 'bytes', note: `runs: ${mem.map((m) => Math.round(m.bytesPerUser)).join(', ')}` },
    { name: '1 M active users, state heap', value: (bytesPerUser * 1_000_000) / 2 ** 30, unit: 'GiB', target: { op: '<=', value: 2 }, note: 'extrapolated from the measured bytes per user; plus ~150 MiB process baseline' },
    { name: `aggregator RSS after draining ${WARM ? 2 * USERS : USERS} users`, value: rss.length ? median(rss) / 2 ** 20 : NaN, unit: 'MiB' },
    ...insertCounts(tp),
    ...cpuBudget(tp),
    ...(WARM ? coldCpu(tp) : []),
  ];
  const out = writeReport(
    ROOT,
    'bench-aggregate',
    'Feature aggregator benchmark',
    measurements,
    { cpus: cpus().length, cpu_model: cpus()[0]?.model.trim() ?? 'unknown', host_speed: { before: speedBefore, after: speedAfter }, loadavg: loadavg().map((x) => x.toFixed(2)).join(' '), quick, events: EVENTS, users: USERS, rate: RATE, latency_seconds: LATENCY_SECONDS, mem_users: MEM_USERS, mem_events_per_user: MEM_EVENTS, runs: RUNS, raw: { throughput: tp, latency: lat, memory: mem } },
    [
      'Kafka, ClickHouse, the aggregator and this load generator share the same machine (and, in development, the CPU with other work): the figures are lower bounds for a dedicated host.',
      "host_speed: CPU ms of two fixed pieces of work (bench/lib/host-speed.ts, each in a fresh process) before and after the runs. The same code gave up to ~3× different throughput on different VMs of the same 2-core shape: compare reports from different hosts only together with these figures.",
      'Latency is per event: ingest stamp → emitted_at of the first UserFeatures of its user whose ingested_at covers it; it includes the coalescing interval (AGGREGATOR_EMIT_INTERVAL_MS) and the ClickHouse write (both precede the commit).',
      "CPU per event: user + system CPU (/proc, sampled every 50 ms) of each process in the window of the rate (the steady-state drain: resume → last commit; cold: first batch → last commit), divided by the events; the aggregator's threads (garbage collection, compilation) beside its main thread. The ceiling is the machine's cores divided by the sum of the aggregator's, Kafka's and ClickHouse's CPU per event: the rate at which this work would fill every core.",
    ],
  );
  log(`wrote ${out.json} and ${out.md}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
