/**
 * `npm run bench:ingest`: speed and memory of the ingestor (issue 3).
 *
 * 1. HTTP: the ingestor as its own process (dist/), autocannon over loopback posting NDJSON
 *    requests of 100 generated events (ids unique per request, so nothing is a duplicate);
 *    events/s from 202 answers (a 202 means Kafka acknowledged), p50/p99 latency, RSS under load.
 * 2. Kafka: N raw Avro ClickEvents pre-produced to a fresh clickstream.raw.v1, then a fresh
 *    ingestor drains them; events/s from the first to the last output on clickstream.events.v1.
 * 3. In-process: normaliser events/s, and the dedup window with 10 M ids (bytes per id, RSS).
 *
 * Options (env): BENCH_HTTP_SECONDS (15), BENCH_HTTP_CONNECTIONS (16), BENCH_RAW_EVENTS (300000),
 * BENCH_DEDUP_IDS (10000000). Writes reports/bench-ingest.json and .md.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ALL_TOPIC_SPECS, Codecs, Topics } from '@app/contracts';
import { CanonicalEventJson, generateEvents, toRawClickEvent } from '@app/datasets';
import { KafkaBus } from '@app/kafka';
import { createLogger } from '@app/observability';
import { freePort, ServiceProcess, testNamespace } from '@app/testing';
import { normalizeEvent } from '../apps/ingestor/src/event-normalizer';
import { Measurement, writeReport } from './lib/report';

// autocannon ships without types; this is the part we use.
interface AutocannonResult {
  latency: { p50: number; p99: number; average: number };
  requests: { average: number; total: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type AutocannonRequest = { method: string; path: string; headers: Record<string, string>; body?: string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (
  opts: Record<string, unknown>,
  cb: (err: Error | null, res: AutocannonResult) => void,
) => unknown;

/** Where `dist/` is (the services run from `<SERVICE_ROOT>/dist/apps/...`). */
const SERVICE_ROOT = join(__dirname, '..', '..');
/** Reports go to the repository the command runs in. */
const ROOT = process.cwd();
const num = (name: string, def: number) => Number(process.env[name] ?? def);
const logger = createLogger('bench-ingest', 'warn');

/** BENCH_INGESTOR_NODE_OPTIONS (e.g. `--cpu-prof`) for the ingestor process only. */
const serviceNodeOptions = (): Record<string, string> =>
  process.env.BENCH_INGESTOR_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_INGESTOR_NODE_OPTIONS } : {};

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function events(n: number, seed: number): CanonicalEventJson[] {
  const out: CanonicalEventJson[] = [];
  const startMs = Date.now() - 2 * 86_400_000;
  for (const e of generateEvents({ seed, users: Math.max(100, Math.ceil(n / 40)), days: 2, startMs })) {
    out.push(e);
    if (out.length >= n) break;
  }
  return out;
}

async function httpLoad(seconds: number, connections: number) {
  const ns = testNamespace('benchhttp');
  const port = await freePort();
  const key = 'bench-key';
  const svc = new ServiceProcess('ingestor', port, { ...ns.env, ...serviceNodeOptions(), INGESTOR_PORT: String(port), PORTRAIT_INGEST_KEYS: key, LOG_LEVEL: 'warn' }, SERVICE_ROOT);
  await svc.start();
  try {
    // 500 request bodies of 100 events; `R#` in each event_id is replaced per request so every
    // request carries fresh ids (the dedup window would otherwise answer "duplicate").
    const pool = events(50_000, 1).map((e) => ({ ...e, event_id: `R#${e.event_id}` }));
    const bodies: string[] = [];
    for (let i = 0; i < pool.length; i += 100) bodies.push(pool.slice(i, i + 100).map((e) => JSON.stringify(e)).join('\n'));
    let n = 0;
    let accepted = 0;
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(svc.pid!))), 250);
    const idleRss = rssOf(svc.pid!);
    const run = (duration: number) =>
      new Promise<AutocannonResult>((resolve, reject) => {
        autocannon(
          {
            url: `http://127.0.0.1:${port}`,
            connections,
            pipelining: 1,
            duration,
            requests: [
              {
                method: 'POST',
                path: '/v1/events',
                headers: { 'content-type': 'application/x-ndjson', 'x-api-key': key },
                setupRequest: (req: AutocannonRequest) => {
                  const i = n++;
                  return { ...req, body: bodies[i % bodies.length].replaceAll('R#', `r${i}-`) };
                },
              },
            ],
          },
          (err, res) => (err ? reject(err) : resolve(res)),
        );
      });
    await run(2); // warm-up (JIT, producer connections)
    peakRss = 0;
    const before = await acceptedByServer(port);
    const r = await run(seconds);
    accepted = (await acceptedByServer(port)) - before;
    clearInterval(sampler);
    const eventsPerSec = accepted / r.duration; // events Kafka acknowledged, not requests × 100
    return { r, eventsPerSec, idleRss, peakRss, accepted };
  } finally {
    await svc.stop();
    await deleteTopics(ns.topicPrefix);
  }
}

/** Events the ingestor acknowledged over HTTP so far (its own counter). */
async function acceptedByServer(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = /portrait_ingest_events_total\{path="http",outcome="accepted"[^}]*\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

async function kafkaPath(n: number) {
  const ns = testNamespace('benchraw');
  const bus = new KafkaBus({ brokers: ns.brokers, clientId: 'bench-ingest', topicPrefix: ns.topicPrefix, logger });
  try {
    await retry(() => bus.ensureTopics(ALL_TOPIC_SPECS));
    const producer = await bus.producer();
    const raw = events(n, 2).map((e) => ({ key: e.user_id ?? e.event_id, value: Codecs.ClickEvent.encode(toRawClickEvent(e)) }));
    for (let i = 0; i < raw.length; i += 2_000) await retry(() => producer.send(bus.topic(Topics.ClickstreamRaw), raw.slice(i, i + 2_000)));
    const port = await freePort();
    const svc = new ServiceProcess('ingestor', port, { ...ns.env, INGESTOR_PORT: String(port), LOG_LEVEL: 'warn' }, SERVICE_ROOT);
    const eventsTopic = bus.topic(Topics.ClickstreamEvents);
    let lastCount = 0;
    // A metadata hiccup right after topic creation must not end the run: keep the last count.
    const outCount = () =>
      bus
        .withAdmin(async (a) => (await a.fetchTopicOffsets(eventsTopic)).reduce((s, p) => s + Number(p.high), 0))
        .then((c) => (lastCount = c), () => lastCount);
    let peakRss = 0;
    await svc.start();
    try {
      let first = 0;
      let countAtFirst = 0;
      let last = 0;
      let count = 0;
      const deadline = Date.now() + 300_000;
      while (count < raw.length && Date.now() < deadline) {
        count = await outCount();
        if (count > 0 && first === 0) [first, countAtFirst] = [Date.now(), count];
        peakRss = Math.max(peakRss, rssOf(svc.pid!));
        if (count < raw.length) await new Promise((r) => setTimeout(r, 50));
      }
      last = Date.now();
      if (count < raw.length) throw new Error(`only ${count} of ${raw.length} events arrived within 300 s\n${svc.logTail()}`);
      // From the first poll that saw output to the last: only the events that came out in between
      // count. (Counting all of them against that time overstated the rate by the whole first
      // fetch batch, which is out before the first poll sees anything: 100k events read 100k+/s.)
      return { eventsPerSec: (count - countAtFirst) / Math.max(0.001, (last - first) / 1000), n: raw.length, peakRss };
    } finally {
      await svc.stop();
    }
  } finally {
    await bus.disconnect();
    await deleteTopics(ns.topicPrefix);
  }
}

/** Retries `fn` a few times: freshly created topics can briefly answer "unknown topic or partition". */
async function retry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 1000 * i));
    }
  }
}

async function deleteTopics(prefix: string) {
  const bus = new KafkaBus({ brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','), clientId: 'bench-cleanup', logger });
  await bus
    .withAdmin(async (a) => {
      const topics = (await a.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length) await a.deleteTopics({ topics });
    })
    .catch((e: unknown) => console.warn(`could not delete the bench topics ${prefix}*: ${String(e)}`));
}

function normaliserSpeed() {
  const items = events(100_000, 3);
  const now = Date.now();
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (const it of items) normalizeEvent(it, now, 'http');
    best = Math.max(best, items.length / ((performance.now() - t0) / 1000));
  }
  return best;
}

/**
 * The dedup window with `ids` ids, in a fresh child process so the RSS difference is the
 * window's alone (this process has the generator's and the normaliser's garbage).
 */
function dedupMemory(ids: number) {
  const script = `
    const { DedupWindow } = require(${JSON.stringify(join(__dirname, '..', 'apps', 'ingestor', 'src', 'dedup-window.js'))});
    const before = process.memoryUsage().rss;
    const w = new DedupWindow({ horizonMs: 86400000, maxIds: ${ids} });
    const t0 = performance.now();
    for (let i = 0; i < ${ids}; i++) w.add('bench-' + i + '-event', 0);
    const addSec = (performance.now() - t0) / 1000;
    let hits = 0;
    for (let i = 0; i < 100000; i++) if (w.has('bench-' + (${ids} - 1 - i) + '-event')) hits++;
    const after = process.memoryUsage().rss;
    console.log(JSON.stringify({ bytesPerId: w.bytesPerId, rssDelta: after - before, rssAfter: after, addsPerSec: ${ids} / addSec, remembered: w.size, recentHits: hits }));`;
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as { bytesPerId: number; rssDelta: number; rssAfter: number; addsPerSec: number; remembered: number; recentHits: number };
}

async function main() {
  const seconds = num('BENCH_HTTP_SECONDS', 15);
  const connections = num('BENCH_HTTP_CONNECTIONS', 16);
  const rawN = num('BENCH_RAW_EVENTS', 300_000);
  const dedupIds = num('BENCH_DEDUP_IDS', 10_000_000);
  const parts = new Set((process.env.BENCH_PARTS ?? 'http,kafka,local').split(','));
  const MB = 1024 * 1024;
  const m: Measurement[] = [];
  const context: Record<string, unknown> = {
    node: process.version,
    cpus: cpus().length,
    loadavg_at_start: loadavg().map((x) => Number(x.toFixed(2))),
  };

  if (parts.has('http')) {
    console.log(`HTTP: ${seconds} s, ${connections} connections, 100 events per request ...`);
    const http = await httpLoad(seconds, connections);
    console.log(`  ${Math.round(http.eventsPerSec)} events/s, p50 ${http.r.latency.p50} ms, p99 ${http.r.latency.p99} ms, non-2xx ${http.r.non2xx}, accepted ${http.accepted}`);
    m.push(
      { name: 'HTTP intake', value: http.eventsPerSec, unit: 'events/s', target: { op: '>=', value: 20_000 }, note: `${connections} connections, 100 events/request, ${seconds} s` },
      { name: 'HTTP request latency p50', value: http.r.latency.p50, unit: 'ms' },
      { name: 'HTTP request latency p99', value: http.r.latency.p99, unit: 'ms' },
      { name: 'HTTP non-2xx answers', value: http.r.non2xx + http.r.errors + http.r.timeouts, unit: 'requests', note: '429/503 would show here' },
      { name: 'ingestor RSS idle', value: http.idleRss / MB, unit: 'MB', note: 'dedup window preallocated for the default 2 M ids' },
      { name: 'ingestor RSS under HTTP load (peak)', value: http.peakRss / MB, unit: 'MB' },
    );
    context.http = { requests: http.r.requests.total, latency_avg_ms: http.r.latency.average, accepted_events: http.accepted };
  }
  if (parts.has('kafka')) {
    console.log(`Kafka raw → events: ${rawN} events ...`);
    const kafka = await kafkaPath(rawN);
    console.log(`  ${Math.round(kafka.eventsPerSec)} events/s`);
    m.push(
      { name: 'Kafka raw → events', value: kafka.eventsPerSec, unit: 'events/s', target: { op: '>=', value: 50_000 }, note: `${kafka.n} pre-produced raw Avro events, 6 partitions` },
      { name: 'ingestor RSS draining raw topic (peak)', value: kafka.peakRss / MB, unit: 'MB' },
    );
  }
  if (parts.has('local')) {
    const normPerSec = normaliserSpeed();
    console.log(`Normaliser: ${Math.round(normPerSec)} events/s`);
    console.log(`Dedup with ${dedupIds} ids ...`);
    const dedup = dedupMemory(dedupIds);
    console.log(`  ${dedup.bytesPerId.toFixed(1)} bytes/id, RSS +${Math.round(dedup.rssDelta / MB)} MB`);
    m.push(
      { name: 'normaliser alone (one core, in-process)', value: normPerSec, unit: 'events/s', target: { op: '>=', value: 50_000 } },
      { name: 'dedup window memory', value: dedup.bytesPerId, unit: 'bytes/id', note: `${dedupIds.toLocaleString('en-US')} ids; 64-bit hashes in 8 generations at load 0.7` },
      { name: `RSS growth with ${dedupIds.toLocaleString('en-US')} ids remembered`, value: dedup.rssDelta / MB, unit: 'MB', note: `${(dedup.rssDelta / dedupIds).toFixed(1)} bytes/id measured in a fresh process` },
      { name: `process RSS with ${dedupIds.toLocaleString('en-US')} ids remembered`, value: dedup.rssAfter / MB, unit: 'MB' },
      { name: 'dedup inserts', value: dedup.addsPerSec, unit: 'ids/s' },
    );
    context.dedup = { remembered: dedup.remembered, recent_hits_of_100000: dedup.recentHits };
  }
  context.loadavg_at_end = loadavg().map((x) => Number(x.toFixed(2)));
  const out = writeReport(
    ROOT,
    'bench-ingest',
    'Ingestor: speed and memory',
    m,
    context,
    [
      'The machine is shared (2 cores, Kafka, ClickHouse and other services); autocannon runs on the same cores as the ingestor and Kafka.',
      'A 202 answer means Kafka acknowledged (acks = all) the request’s events, so HTTP events/s is end-to-end onto clickstream.events.v1.',
    ],
  );
  console.log(`wrote ${out.json} and ${out.md}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
