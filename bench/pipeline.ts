import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Admin, CompressionTypes, Consumer, Kafka, logLevel, Producer } from 'kafkajs';
import { ClickHouseStore } from '@app/clickhouse';
import { clickEventKey, Codecs, ModelMetrics, Topics } from '@app/contracts';
import { CanonicalEventJson, generateEvents, generateLabels, generatePersonas } from '@app/datasets';
import { featureVector } from '@app/model';
import { AppName, freePort, ServiceProcess, testNamespace, TestNamespace } from '@app/testing';
import { percentile } from './report/stats';
import { toRawClickEvent, workloadOptions } from './workload';

/**
 * The whole pipeline under load: the four services as their own processes (fresh namespace:
 * topics, groups, database, ports), raw ClickEvents produced to `clickstream.raw.v1` at a
 * controlled rate (token bucket), consumer lag of every service group sampled from Kafka, and
 * CPU/RSS of every process from /proc. Finds the highest input rate at which lag stays bounded
 * (doubling, then bisection), then measures freshness (profile published − event ingested) at
 * fractions of that rate. While it runs it records the UserFeatures stream (for the River peer)
 * and the trainer's ModelMetrics.
 */
export interface PipelineOptions {
  seed: number;
  users: number;
  days: number;
  stepSec: number;
  startRate: number;
  maxRate: number;
  refineSteps: number;
  freshnessFractions: number[];
  labelFraction: number;
  /** Seconds of backlog a group may hold at the end of a step and still count as keeping up. */
  lagBudgetSec: number;
  /** Lag (records) always allowed, for batching/flush intervals. */
  minLagAllowed: number;
  /** Folder for the services' log tails at the end (for diagnosis); none when undefined. */
  logDir?: string;
  /** Where to write the peer samples (JSONL); none when undefined. */
  peerExport?: string;
  peerMaxSamples: number;
  log: (msg: string) => void;
}

export interface ProcessSample {
  cpu_pct: number;
  rss_mb: number;
}

export interface StepResult {
  phase: 'search' | 'freshness';
  target_rate: number;
  achieved_rate: number;
  duration_s: number;
  /** Records/s each service group committed during the step. */
  consumed_per_s: Record<string, number>;
  lag_end: Record<string, number>;
  lag_allowed: Record<string, number>;
  bounded: boolean;
  producer_limited: boolean;
  processes: Record<string, ProcessSample>;
  clickhouse_rows_per_s: number;
  freshness: { n: number; p50_ms: number | null; p99_ms: number | null };
  /** UserFeatures emitted − event ingested (the aggregator's share of freshness), over the step. */
  features_latency: { n: number; p50_ms: number | null; p99_ms: number | null };
}

export interface PipelineResult {
  dataset: string;
  seed: number;
  users: number;
  events_produced: number;
  max_sustained_events_per_s: number;
  /** True when even the highest tested rate kept up (the real limit is higher). */
  max_is_lower_bound: boolean;
  steps: StepResult[];
  freshness: {
    fraction: number;
    rate: number;
    achieved_rate: number;
    n: number;
    p50_ms: number | null;
    p99_ms: number | null;
    features_p50_ms: number | null;
    features_p99_ms: number | null;
  }[];
  at_max: { processes: Record<string, ProcessSample>; clickhouse_rows_per_s: number; consumed_per_s: Record<string, number> } | null;
  model_metrics: ModelMetrics | null;
  model_metrics_messages: number;
  peer_samples: number;
  peer_export: string | null;
}

const APPS: AppName[] = ['ingestor', 'feature-aggregator', 'trainer', 'profile-publisher'];
const GROUPS = ['ingestor-raw', 'feature-aggregator', 'trainer', 'profile-publisher'] as const;
/** The input topic whose lag measures each service group (a group that has not committed yet lags by the whole topic). */
const GROUP_INPUT: Record<(typeof GROUPS)[number], string> = {
  'ingestor-raw': Topics.ClickstreamRaw,
  'feature-aggregator': Topics.ClickstreamEvents,
  trainer: Topics.UserFeatures,
  'profile-publisher': Topics.UserFeatures,
};
const CLK_TCK = 100;
const HOUR = 3_600_000;

/** CPU ticks (user+system) and RSS of a process from /proc; null when it is gone. */
export function readProc(pid: number): { ticks: number; rss_kb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return { ticks, rss_kb: m ? Number(m[1]) : 0 };
  } catch {
    return null;
  }
}

/** Whether a step kept up: every group's end-of-step lag within its allowance, and the producer reached the rate. */
export function judgeStep(
  lagEnd: Record<string, number>,
  inRate: Record<string, number>,
  opts: { lagBudgetSec: number; minLagAllowed: number },
): { bounded: boolean; allowed: Record<string, number> } {
  const allowed: Record<string, number> = {};
  let bounded = true;
  for (const [g, lag] of Object.entries(lagEnd)) {
    allowed[g] = Math.max(opts.minLagAllowed, Math.round((inRate[g] ?? 0) * opts.lagBudgetSec));
    if (lag > allowed[g]) bounded = false;
  }
  return { bounded, allowed };
}

/**
 * Next rate to try, from the highest rate that kept up (`lo`, 0 = none yet) and the lowest that
 * fell behind (`hi`): double while nothing failed, halve while nothing succeeded, else bisect;
 * null when the search is done.
 */
export function nextRate(lo: number, hi: number | null, maxRate: number, minRate: number): number | null {
  if (hi === null) return lo >= maxRate ? null : Math.min(maxRate, Math.round(lo * 2));
  if (lo === 0) {
    const down = Math.round(hi / 2);
    return down < minRate ? null : down;
  }
  if (hi - lo <= Math.max(50, lo * 0.1)) return null;
  return Math.round((lo + hi) / 2);
}

/** Purchase within the next 24 h of event time after `asOf`, or null when the stream does not reach that far. */
export function purchaseNext24h(purchases: number[] | undefined, asOf: number, streamEnd: number): 0 | 1 | null {
  if (purchases?.some((t) => t > asOf && t <= asOf + 24 * HOUR)) return 1;
  return asOf + 24 * HOUR <= streamEnd ? 0 : null;
}

interface FeatureSample {
  user_id: string;
  as_of: number;
  x: number[];
}

class PipelineRun {
  private readonly ns: TestNamespace;
  private services: ServiceProcess[] = [];
  private kafka: Kafka;
  private admin!: Admin;
  private producer!: Producer;
  private readers: Consumer[] = [];
  private store!: ClickHouseStore;
  private source!: Iterator<CanonicalEventJson>;
  private sourceRound = 0;
  produced = 0;
  private lastEventTs = 0;
  private readonly purchases = new Map<string, number[]>();
  private pending: { key: string; value: Buffer; ts: number; purchaseBy: string | null }[] = [];
  private readonly labels = new Map<string, Record<string, string | null>>();
  /** [publish time, ingested] of every profile message. */
  private readonly profileTimes: [number, number][] = [];
  /** [emitted_at, ingested_at] of every UserFeatures message (the first half of freshness). */
  private readonly featureTimes: [number, number][] = [];
  readonly metrics: ModelMetrics[] = [];
  private readonly samples: FeatureSample[] = [];

  constructor(private readonly o: PipelineOptions) {
    this.ns = testNamespace('bench');
    this.kafka = new Kafka({ clientId: 'bench-pipeline', brokers: this.ns.brokers, logLevel: logLevel.NOTHING });
  }

  private topic(t: string): string {
    return `${this.ns.topicPrefix}${t}`;
  }

  async start(): Promise<void> {
    const ports = Object.fromEntries(await Promise.all(APPS.map(async (a) => [a, await freePort()] as const))) as Record<AppName, number>;
    const env = {
      ...this.ns.env,
      INGESTOR_PORT: String(ports.ingestor),
      AGGREGATOR_PORT: String(ports['feature-aggregator']),
      TRAINER_PORT: String(ports.trainer),
      PUBLISHER_PORT: String(ports['profile-publisher']),
      PORTRAIT_INGEST_KEYS: 'bench-ingest',
      PORTRAIT_READ_KEYS: 'bench-read',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    };
    this.services = APPS.map((a) => new ServiceProcess(a, ports[a], env));
    this.o.log(`starting services in namespace ${this.ns.id}`);
    // The ingestor creates the topics; the others start once it is ready.
    await this.services[0].start(120_000);
    await Promise.all(this.services.slice(1).map((s) => s.start(120_000)));
    this.admin = this.kafka.admin();
    await this.admin.connect();
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
    await this.producer.connect();
    this.store = new ClickHouseStore({ url: this.ns.clickhouseUrl, database: this.ns.database });
    await this.startReaders();
    await this.publishLabels();
    this.source = generateEvents(workloadOptions(this.o.seed, this.o.users, this.o.days));
  }

  private async startReaders(): Promise<void> {
    const reader = async (topic: string, onMessage: (value: Buffer, timestamp: number) => void) => {
      const c = this.kafka.consumer({ groupId: `bench-reader-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 100 });
      await c.connect();
      await c.subscribe({ topic: this.topic(topic), fromBeginning: true });
      await c.run({
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) if (m.value) onMessage(m.value, Number(m.timestamp));
        },
      });
      this.readers.push(c);
    };
    await reader(Topics.ProfileUpdated, (v, ts) => {
      const p = Codecs.ProfileUpdated.decode(v);
      const ingested = p.freshness.ingested;
      // Only profiles that new events produced: a re-score after a model update (or a label, or a
      // segment rule) republishes profiles whose newest event may be minutes old — counting those
      // measured the time since the user's last event, not the pipeline (one phase showed p50 17.8 s).
      if (!p.changed_fields.includes('features')) return;
      if (ingested !== undefined && ingested > 0) this.profileTimes.push([Number.isFinite(ts) && ts > 0 ? ts : p.computed_at, ingested]);
    });
    await reader(Topics.ModelMetrics, (v) => this.metrics.push(Codecs.ModelMetrics.decode(v)));
    await reader(Topics.UserFeatures, (v) => {
      const f = Codecs.UserFeatures.decode(v);
      if (f.ingested_at > 0) this.featureTimes.push([f.emitted_at, f.ingested_at]);
      if (!this.o.peerExport || this.samples.length >= this.o.peerMaxSamples) return;
      this.samples.push({ user_id: f.user_id, as_of: f.as_of, x: Array.from(featureVector(f.features), (n) => Math.round(n * 1e5) / 1e5) });
    });
  }

  private async publishLabels(): Promise<void> {
    const rows = generateLabels(generatePersonas({ seed: this.o.seed, users: this.o.users }), { fraction: this.o.labelFraction, seed: this.o.seed });
    const now = Date.now();
    const messages = rows.map((r) => {
      this.labels.set(r.user_id, r.attributes);
      return {
        key: r.user_id,
        value: Codecs.UserAttributes.encode({ user_id: r.user_id, attributes: r.attributes, source: 'bench:generator', observed_at: now, label_set: 'generator' }),
      };
    });
    for (let i = 0; i < messages.length; i += 5000) {
      await this.producer.send({ topic: this.topic(Topics.UserAttributes), messages: messages.slice(i, i + 5000), acks: -1 });
    }
    this.o.log(`published ${rows.length} known-attribute records`);
  }

  private nextEvent(): CanonicalEventJson {
    for (;;) {
      const r = this.source.next();
      if (!r.done) return r.value;
      // Dataset exhausted: continue with a fresh population (new ids, so nothing is deduplicated away).
      this.sourceRound++;
      this.source = generateEvents({ ...workloadOptions(this.o.seed + this.sourceRound, this.o.users, this.o.days), userPrefix: `r${this.sourceRound}u` });
    }
  }

  /** Encodes events ahead of a step, so the timed loop only sends (the driver shares the CPU with the services). */
  private prepare(n: number): void {
    while (this.pending.length < n) {
      const raw = toRawClickEvent(this.nextEvent());
      this.pending.push({
        key: clickEventKey(raw),
        value: Codecs.ClickEvent.encode(raw),
        ts: raw.ts,
        purchaseBy: raw.event_type === 'purchase' ? (raw.user_id ?? null) : null,
      });
    }
  }

  /** Produces at `rate` events/s for `seconds` (token bucket, 20 ms ticks); returns the achieved rate. */
  private async drive(rate: number, seconds: number): Promise<number> {
    const topic = this.topic(Topics.ClickstreamRaw);
    this.prepare(Math.ceil(rate * seconds));
    const t0 = Date.now();
    const end = t0 + seconds * 1000;
    let sent = 0;
    while (Date.now() < end && sent < this.pending.length) {
      const due = Math.min(Math.floor(((Date.now() - t0) / 1000) * rate) - sent, Math.max(1000, Math.ceil(rate / 10)), this.pending.length - sent);
      if (due <= 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const batch = this.pending.slice(sent, sent + due);
      await this.producer.send({ topic, messages: batch.map((m) => ({ key: m.key, value: m.value })), acks: 1, compression: CompressionTypes.None });
      for (const m of batch) {
        if (m.purchaseBy) {
          const list = this.purchases.get(m.purchaseBy);
          if (list) list.push(m.ts);
          else this.purchases.set(m.purchaseBy, [m.ts]);
        }
        if (m.ts > this.lastEventTs) this.lastEventTs = m.ts;
      }
      sent += due;
    }
    // What was not sent in time is sent first in the next step (the stream stays in order).
    this.pending = this.pending.slice(sent);
    this.produced += sent;
    return sent / ((Date.now() - t0) / 1000);
  }

  /** Committed offsets and lag of every service group (sums over partitions). */
  private async offsets(): Promise<{ committed: Record<string, number>; lag: Record<string, number>; high: Record<string, number> }> {
    const committed: Record<string, number> = {};
    const lag: Record<string, number> = {};
    const high: Record<string, number> = {};
    const highs = new Map<string, Map<number, number>>();
    for (const g of GROUPS) {
      const res = await this.admin.fetchOffsets({ groupId: `${this.ns.groupPrefix}${g}`, topics: [this.topic(GROUP_INPUT[g])] });
      let c = 0;
      let l = 0;
      let h = 0;
      for (const t of res) {
        let hw = highs.get(t.topic);
        if (!hw) {
          hw = new Map((await this.admin.fetchTopicOffsets(t.topic)).map((p) => [p.partition, Number(p.high)]));
          highs.set(t.topic, hw);
        }
        for (const p of t.partitions) {
          const ph = hw.get(p.partition) ?? 0;
          const off = Number(p.offset) >= 0 ? Number(p.offset) : 0;
          c += off;
          h += ph;
          l += Math.max(0, ph - off);
        }
      }
      committed[g] = c;
      lag[g] = l;
      high[g] = h;
    }
    return { committed, lag, high };
  }

  private async chRows(): Promise<number> {
    const r = await this.store.query<{ n: string }>(
      `SELECT sum(rows) AS n FROM system.parts WHERE active AND database = '${this.ns.database.replace(/[^a-z0-9_]/gi, '')}'`,
    );
    return Number(r[0]?.n ?? 0);
  }

  private procs(): Map<string, { ticks: number; rss_kb: number }> {
    const out = new Map<string, { ticks: number; rss_kb: number }>();
    for (const s of this.services) {
      const p = s.pid !== undefined ? readProc(s.pid) : null;
      if (p) out.set(s.app, p);
    }
    const self = readProc(process.pid);
    if (self) out.set('bench-driver', self);
    return out;
  }

  /** Waits until every group's lag is small (or the timeout passes); returns the remaining total lag. */
  private async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let total = Infinity;
    while (Date.now() < deadline) {
      const { lag } = await this.offsets();
      total = Object.values(lag).reduce((a, b) => a + b, 0);
      if (Object.values(lag).every((l) => l <= this.o.minLagAllowed / 4)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return total;
  }

  async step(phase: StepResult['phase'], rate: number): Promise<StepResult> {
    for (const s of this.services) if (s.exitCode !== null) throw new Error(`${s.app} exited (${s.exitCode}):\n${s.logTail(30)}`);
    await this.drain(phase === 'freshness' ? 30_000 : 20_000);
    const o0 = await this.offsets();
    const p0 = this.procs();
    const ch0 = await this.chRows();
    const t0 = Date.now();
    const achieved = await this.drive(rate, this.o.stepSec);
    const t1 = Date.now();
    const o1 = await this.offsets();
    const p1 = this.procs();
    const ch1 = await this.chRows();
    const dt = (Date.now() - t0) / 1000;
    const consumed: Record<string, number> = {};
    const inRate: Record<string, number> = {};
    for (const g of GROUPS) {
      consumed[g] = Math.max(0, (o1.committed[g] - o0.committed[g]) / dt);
      inRate[g] = Math.max(0, (o1.high[g] - o0.high[g]) / dt);
    }
    const { bounded, allowed } = judgeStep(o1.lag, inRate, this.o);
    const processes: Record<string, ProcessSample> = {};
    for (const [app, b] of p1) {
      const a = p0.get(app);
      if (!a) continue;
      processes[app] = { cpu_pct: Math.round(((b.ticks - a.ticks) / CLK_TCK / dt) * 1000) / 10, rss_mb: Math.round(b.rss_kb / 102.4) / 10 };
    }
    // Profiles published during the step (give the tail a second to arrive).
    await new Promise((r) => setTimeout(r, 1000));
    const within = (pairs: [number, number][]) => pairs.filter(([at]) => at >= t0 && at <= t1 + 1000).map(([at, ing]) => at - ing).sort((a, b) => a - b);
    const lat = within(this.profileTimes);
    const flat = within(this.featureTimes);
    const producerLimited = achieved < rate * 0.9;
    const r: StepResult = {
      phase,
      target_rate: rate,
      achieved_rate: Math.round(achieved),
      duration_s: Math.round(dt * 10) / 10,
      consumed_per_s: Object.fromEntries(Object.entries(consumed).map(([k, v]) => [k, Math.round(v)])),
      lag_end: o1.lag,
      lag_allowed: allowed,
      bounded,
      producer_limited: producerLimited,
      processes,
      clickhouse_rows_per_s: Math.round(Math.max(0, ch1 - ch0) / dt),
      freshness: { n: lat.length, p50_ms: lat.length ? percentile(lat, 0.5) : null, p99_ms: lat.length ? percentile(lat, 0.99) : null },
      features_latency: { n: flat.length, p50_ms: flat.length ? percentile(flat, 0.5) : null, p99_ms: flat.length ? percentile(flat, 0.99) : null },
    };
    this.o.log(
      `${phase} ${rate}/s: achieved ${r.achieved_rate}/s, lag ${JSON.stringify(r.lag_end)} → ${r.bounded ? 'kept up' : 'fell behind'}` +
        (r.freshness.n ? `, freshness p50 ${r.freshness.p50_ms} ms p99 ${r.freshness.p99_ms} ms` : '') +
        (r.features_latency.n ? ` (features emitted p50 ${r.features_latency.p50_ms} ms p99 ${r.features_latency.p99_ms} ms)` : ''),
    );
    return r;
  }

  /** Writes the peer samples with their labels; returns how many. */
  exportPeer(path: string): number {
    mkdirSync(dirname(path), { recursive: true });
    const lines: string[] = [];
    for (const s of this.samples) {
      const y: Record<string, string> = {};
      const attrs = this.labels.get(s.user_id);
      if (attrs) for (const [k, v] of Object.entries(attrs)) if (v !== null) y[k] = v;
      const p = purchaseNext24h(this.purchases.get(s.user_id), s.as_of, this.lastEventTs);
      if (p !== null) y.purchase_24h = String(p);
      if (Object.keys(y).length > 0) lines.push(JSON.stringify({ user_id: s.user_id, as_of: s.as_of, x: s.x, y }));
    }
    const out = createWriteStream(path);
    out.end(lines.join('\n') + (lines.length ? '\n' : ''));
    return lines.length;
  }

  async stop(): Promise<void> {
    if (this.o.logDir) {
      mkdirSync(this.o.logDir, { recursive: true });
      for (const s of this.services) createWriteStream(join(this.o.logDir, `${s.app}.log`)).end(s.logTail(400));
    }
    await Promise.all(this.readers.map((r) => r.disconnect().catch(() => undefined)));
    await this.producer?.disconnect().catch(() => undefined);
    await Promise.all(this.services.map((s) => s.stop().catch(() => undefined)));
    if (this.admin) {
      const topics = (await this.admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(this.ns.topicPrefix));
      if (topics.length) await this.admin.deleteTopics({ topics }).catch(() => undefined);
      await this.admin.disconnect().catch(() => undefined);
    }
    if (this.store) {
      await this.store.command(`DROP DATABASE IF EXISTS ${this.ns.database}`).catch(() => undefined);
      await this.store.close().catch(() => undefined);
    }
  }
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const run = new PipelineRun(o);
  const steps: StepResult[] = [];
  try {
    await run.start();
    // Search: double from startRate until a step falls behind (halve while even the first one
    // does), then bisect between the highest rate that kept up and the lowest that did not.
    let lo = 0;
    let hi: number | null = null;
    let okStep: StepResult | null = null;
    let producerCapped = false;
    let bisections = 0;
    const minRate = Math.max(10, Math.round(o.startRate / 16));
    let rate: number | null = o.startRate;
    while (rate !== null) {
      const s = await run.step('search', rate);
      steps.push(s);
      if (s.bounded) {
        if (s.achieved_rate > lo) {
          lo = s.achieved_rate;
          okStep = s;
        }
        // The driver cannot push harder on this machine: what it reached is a lower bound.
        if (s.producer_limited) {
          producerCapped = true;
          break;
        }
      } else hi = Math.min(hi ?? Infinity, rate);
      if (lo > 0 && hi !== null && bisections++ >= o.refineSteps) break;
      rate = nextRate(lo, hi, o.maxRate, minRate);
    }
    const max = lo > 0 ? lo : minRate;
    const freshness: PipelineResult['freshness'] = [];
    for (const f of o.freshnessFractions) {
      const r = Math.max(1, Math.round(max * f));
      const s = await run.step('freshness', r);
      steps.push(s);
      freshness.push({
        fraction: f,
        rate: r,
        achieved_rate: s.achieved_rate,
        n: s.freshness.n,
        p50_ms: s.freshness.p50_ms,
        p99_ms: s.freshness.p99_ms,
        features_p50_ms: s.features_latency.p50_ms,
        features_p99_ms: s.features_latency.p99_ms,
      });
    }
    const peerSamples = o.peerExport ? run.exportPeer(o.peerExport) : 0;
    return {
      dataset: 'generator',
      seed: o.seed,
      users: o.users,
      events_produced: run.produced,
      max_sustained_events_per_s: max,
      max_is_lower_bound: hi === null || producerCapped,
      steps,
      freshness,
      at_max: okStep ? { processes: okStep.processes, clickhouse_rows_per_s: okStep.clickhouse_rows_per_s, consumed_per_s: okStep.consumed_per_s } : null,
      // The learner's prequential window (what River is compared with): the trainer emits one
      // message per role; the live version's may predate heads the learner has since grown.
      model_metrics: run.metrics.filter((m) => m.model_version.endsWith('+learner')).at(-1) ?? run.metrics.at(-1) ?? null,
      model_metrics_messages: run.metrics.length,
      peer_samples: peerSamples,
      peer_export: o.peerExport ?? null,
    };
  } finally {
    await run.stop();
  }
}

export type PipelineSize = 'smoke' | 'quick' | 'full';

export function pipelineDefaults(size: PipelineSize): Omit<PipelineOptions, 'log' | 'seed' | 'peerExport'> {
  const common = { freshnessFractions: [0.25, 0.5, 0.75], labelFraction: 0.5, lagBudgetSec: 3, minLagAllowed: 2000 };
  if (size === 'smoke') return { ...common, users: 300, days: 3, stepSec: 3, startRate: 200, maxRate: 400, refineSteps: 0, peerMaxSamples: 2000 };
  if (size === 'quick') return { ...common, users: 1000, days: 7, stepSec: 8, startRate: 1000, maxRate: 32000, refineSteps: 1, peerMaxSamples: 20000 };
  return { ...common, users: 2000, days: 7, stepSec: 15, startRate: 1000, maxRate: 64000, refineSteps: 2, peerMaxSamples: 40000 };
}

async function main() {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      'peer-export': { type: 'string' },
      'log-dir': { type: 'string' },
      'start-rate': { type: 'string' },
      'max-rate': { type: 'string' },
      'step-sec': { type: 'string' },
    },
  });
  const size: PipelineSize = values.smoke ? 'smoke' : values.quick || process.env.BENCH_QUICK === '1' ? 'quick' : 'full';
  const d = pipelineDefaults(size);
  const result = await runPipeline({
    ...d,
    startRate: values['start-rate'] ? Number(values['start-rate']) : d.startRate,
    maxRate: values['max-rate'] ? Number(values['max-rate']) : d.maxRate,
    stepSec: values['step-sec'] ? Number(values['step-sec']) : d.stepSec,
    seed: Number(values.seed),
    peerExport: values['peer-export'],
    logDir: values['log-dir'],
    log: (m) => console.error(`[pipeline] ${m}`),
  });
  const json = JSON.stringify(result, null, 2);
  if (values.out) {
    mkdirSync(dirname(values.out), { recursive: true });
    createWriteStream(values.out).end(json + '\n');
  }
  console.log(json);
}

// Run directly (node dist/bench/pipeline.js) or through scripts/run.js, which require()s the file.
if (require.main === module || process.argv[1] === __filename) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack ?? e.message : String(e));
    process.exit(1);
  });
}

