import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelMetrics } from '@app/contracts';
import { limitsSizes, LimitsResult, measureLimits } from './limits';
import { PipelineResult, pipelineDefaults, PipelineSize, runPipeline } from './pipeline';
import type { FreshnessPoint } from './report/plots';
import { BenchReport, writeBenchReport } from './report/report';
import { ratio, spread } from './report/stats';
import { PeerOutcome, runPeer } from './peer/river';
import { BENCH_DATASET } from './workload';

/**
 * `npm run bench`: the whole benchmark in one command. The machine's limit (Kafka's and
 * ClickHouse's own tools), each stage's own benchmark (bench/<stage>.ts, when it exists), the
 * whole pipeline (highest sustained rate, freshness, CPU/RSS), and the River peer on the same
 * UserFeatures stream; the key measurements repeated `--runs` times (median and spread). Writes
 * reports/<timestamp>/report.json + report.md + SVG figures, and a copy in reports/latest/.
 *
 *   npm run bench                  default size, 3 runs (a few minutes on 2 cores)
 *   npm run bench -- --runs 1      one run
 *   npm run bench -- --full        larger steps and searches
 *   npm run bench -- --smoke       seconds: tiny sizes, 1 run, no stage benchmarks (the test suite's)
 *   npm run bench -- --reuse-stages  read each stage's last reports/bench-<stage>.json instead of running it
 */
const ROOT = join(__dirname, '..', '..');
const STAGES = ['ingest', 'aggregate', 'train', 'publish'] as const;

const log = (m: string) => console.error(`[bench] ${m}`);

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Runs `node dist/bench/<stage>.js --quick` and reads the reports/bench-<stage>.json it writes.
 * When it fails or runs past the time limit, the stage's previous report (from its owner's own
 * run) is used instead and marked `reused`, with its age, so the report still has the stage.
 */
async function runStage(stage: string, timeoutMs: number): Promise<BenchReport['stages'][string]> {
  const entry = join(ROOT, 'dist', 'bench', `${stage}.js`);
  if (!existsSync(entry)) return { status: 'missing' };
  const started = Date.now();
  const out = join(ROOT, 'reports', `bench-${stage}.json`);
  const tail: string[] = [];
  const code = await new Promise<number | string>((resolve) => {
    // Its own process group, so a timeout also stops the services the stage benchmark started.
    const child = spawn(process.execPath, [entry, '--quick'], { cwd: ROOT, env: { ...process.env, BENCH_QUICK: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (b: Buffer) => {
      tail.push(b.toString());
      if (tail.length > 50) tail.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    let hard: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      tail.push(`\n[bench] ${stage}: time limit of ${timeoutMs / 1000} s reached, stopped\n`);
      killGroup('SIGTERM');
      hard = setTimeout(() => killGroup('SIGKILL'), 15_000);
    }, timeoutMs);
    child.on('exit', (c, sig) => {
      clearTimeout(timer);
      // The group may still hold the stage's service processes after its main process exited.
      setTimeout(() => {
        killGroup('SIGTERM');
        if (hard) clearTimeout(hard);
      }, 2000).unref();
      resolve(c ?? sig ?? 'killed');
    });
  });
  const seconds = (Date.now() - started) / 1000;
  const fresh = existsSync(out) && statSync(out).mtimeMs >= started;
  if (code === 0 && fresh) return { status: 'ok', seconds, report: JSON.parse(readFileSync(out, 'utf8')) as unknown };
  const error = code !== 0 ? `exit ${code}: ${tail.join('').slice(-600)}` : `no fresh ${out}`;
  if (existsSync(out)) {
    const at = statSync(out).mtime.toISOString();
    return { status: 'reused', seconds, error: `${error.slice(0, 200)} — using the stage's previous report from ${at}`, report: JSON.parse(readFileSync(out, 'utf8')) as unknown, reused_from: at };
  }
  return { status: 'failed', seconds, error };
}

interface RiverResult {
  targets: Record<string, Record<string, { n: number; accuracy: number | null; macro_f1: number | null; window_macro_f1: number | null; samples_per_s: number | null; majority_accuracy: number | null }>>;
}

export function peerTable(river: unknown, ours: ModelMetrics | null): BenchReport['peer']['table'] {
  const rows: BenchReport['peer']['table'] = [];
  const targets = new Set<string>();
  const r = river as RiverResult | null;
  for (const t of Object.keys(r?.targets ?? {})) targets.add(t);
  for (const t of [...targets].sort()) {
    const head = ours?.heads.find((h) => h.head === t || (t === 'purchase_24h' && /purchase/.test(h.head)));
    // A head that scored no labelled sample has no metrics yet (the trainer sends zeros): shown as missing.
    const scored = head !== undefined && head.n > 0;
    if (head) rows.push({ target: t, learner: 'portrait trainer (window)', n: head.n, accuracy: scored ? head.accuracy : null, macro_f1: scored ? head.macro_f1 : null, samples_per_s: null });
    if (head && scored) rows.push({ target: t, learner: 'majority baseline', n: head.n, accuracy: head.majority_accuracy, macro_f1: head.majority_macro_f1, samples_per_s: null });
    for (const [model, m] of Object.entries(r?.targets[t] ?? {})) {
      rows.push({ target: t, learner: `river ${model}`, n: m.n, accuracy: m.accuracy, macro_f1: m.macro_f1, samples_per_s: m.samples_per_s });
    }
  }
  // Heads of ours that River had no labels for still belong in the table.
  for (const h of ours?.heads ?? []) {
    if (!rows.some((x) => x.learner === 'portrait trainer (window)' && (x.target === h.head || (x.target === 'purchase_24h' && /purchase/.test(h.head))))) {
      rows.push({ target: h.head, learner: 'portrait trainer (window)', n: h.n, accuracy: h.n > 0 ? h.accuracy : null, macro_f1: h.n > 0 ? h.macro_f1 : null, samples_per_s: null });
    }
  }
  return rows;
}

async function main() {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      runs: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'reports-dir': { type: 'string' },
      'skip-stages': { type: 'boolean', default: false },
      stages: { type: 'string' },
      'reuse-stages': { type: 'boolean', default: false },
      'skip-peer': { type: 'boolean', default: false },
    },
  });
  const size: PipelineSize = values.smoke ? 'smoke' : values.full ? 'full' : 'quick';
  const runs = Math.max(1, Number(values.runs ?? (size === 'smoke' ? 1 : 3)));
  const seed = Number(values.seed);
  const reportsDir = values['reports-dir'] ?? join(ROOT, 'reports');
  const started = new Date();
  // Other work on a shared machine changes every number: the load average goes into the report.
  const loadStart = Math.round(loadavg()[0] * 100) / 100;
  const command = `npm run bench --${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`.replace(/ --$/, '');
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const notes: string[] = [];
  const dir = join(reportsDir, stamp(started));
  mkdirSync(dir, { recursive: true });

  const limits: LimitsResult[] = [];
  const pipelines: PipelineResult[] = [];
  for (let i = 0; i < runs; i++) {
    log(`run ${i + 1}/${runs}: machine limits`);
    limits.push(await measureLimits({ ...limitsSizes(size === 'full' ? 'full' : size === 'smoke' ? 'smoke' : 'quick'), brokers, root: ROOT, seed }));
  }

  const stages: BenchReport['stages'] = {};
  for (const s of STAGES) {
    if (size === 'smoke' || values['skip-stages'] || (values.stages !== undefined && !values.stages.split(',').includes(s))) {
      stages[s] = { status: 'skipped' };
      continue;
    }
    const previous = join(ROOT, 'reports', `bench-${s}.json`);
    if (values['reuse-stages']) {
      stages[s] = existsSync(previous)
        ? { status: 'reused', reused_from: statSync(previous).mtime.toISOString(), report: JSON.parse(readFileSync(previous, 'utf8')) as unknown }
        : { status: 'missing' };
      continue;
    }
    log(`stage benchmark: ${s}`);
    stages[s] = await runStage(s, size === 'full' ? 900_000 : 240_000);
    log(`stage ${s}: ${stages[s].status}`);
  }

  const peerFile = join(dir, 'peer-samples.jsonl');
  for (let i = 0; i < runs; i++) {
    log(`run ${i + 1}/${runs}: whole pipeline`);
    // A run that fails (a service that does not start, say, while someone rebuilds dist/) is
    // tried once more; if it fails again it is reported and the other runs still count.
    for (let attempt = 1; attempt <= 2; attempt++) {
      try {
        pipelines.push(
          await runPipeline({
            ...pipelineDefaults(size),
            seed,
            peerExport: pipelines.length === 0 && !values['skip-peer'] ? peerFile : undefined,
            logDir: join(dir, 'logs', `run${i + 1}`),
            log: (m) => log(`pipeline: ${m}`),
          }),
        );
        break;
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        log(`pipeline run ${i + 1} (attempt ${attempt}) failed: ${msg}`);
        if (attempt === 2) notes.push(`Pipeline run ${i + 1} failed twice and is left out of the medians: ${msg.split('\n')[0]}`);
        else await new Promise((r) => setTimeout(r, 30_000));
      }
    }
  }
  if (pipelines.length === 0) throw new Error('every pipeline run failed (see above)');

  let peer: PeerOutcome = { status: 'skipped', river: null };
  if (!values['skip-peer']) {
    if (pipelines[0].peer_samples > 0) {
      log(`peer: River on ${pipelines[0].peer_samples} samples`);
      peer = runPeer(peerFile, size, log);
    } else peer = { status: 'no labelled UserFeatures samples were seen', river: null };
  }
  const ours = pipelines[0].model_metrics;
  if (!ours) notes.push('The trainer published no ModelMetrics on model.metrics.v1 during the run: only River is in the peer table.');
  else if (ours.heads.every((h) => h.n === 0)) notes.push(`The trainer published ModelMetrics (${ours.model_version}) but had scored no labelled sample in its window by the end of the run: its rows show n = 0 and no accuracy.`);
  if (pipelines.some((p) => p.max_is_lower_bound)) notes.push('The highest tested input rate kept up in at least one run: the pipeline figure is a lower bound (raise --max-rate).');
  if (pipelines.some((p) => p.steps.some((s) => s.producer_limited))) notes.push("At some steps the benchmark's own producer could not reach the target rate on this machine (marked producer_limited).");

  const fractions = pipelineDefaults(size).freshnessFractions;
  const key = (f: number) => `${Math.round(f * 100)}%`;
  const fresh = (f: number, q: 'p50_ms' | 'p99_ms') => spread(pipelines.map((p) => p.freshness.find((x) => x.fraction === f)?.[q] ?? null));
  const report: BenchReport = {
    meta: {
      command,
      mode: size,
      started_at: started.toISOString(),
      finished_at: new Date().toISOString(),
      dataset: `${BENCH_DATASET} (built-in shoppers, ${pipelineDefaults(size).users} users)`,
      seed,
      runs,
      git_commit: gitCommit(),
      machine: {
        cores: cpus().length,
        cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
        memory_gb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
        platform: `${process.platform} ${process.arch}`,
        node: process.version,
      },
      load_avg_1m: { start: loadStart, end: Math.round(loadavg()[0] * 100) / 100 },
    },
    summary: {
      kafka_produce_records_per_s: spread(limits.map((l) => l.kafka.produce_records_per_s)),
      kafka_consume_records_per_s: spread(limits.map((l) => l.kafka.consume_records_per_s)),
      kafka_produce_consume_records_per_s: spread(limits.map((l) => l.kafka.produce_consume_records_per_s)),
      clickhouse_insert_rows_per_s: spread(limits.map((l) => l.clickhouse.rows_per_s)),
      pipeline_events_per_s: spread(pipelines.map((p) => p.max_sustained_events_per_s)),
      freshness_p50_ms: Object.fromEntries(fractions.map((f) => [key(f), fresh(f, 'p50_ms')])),
      freshness_p99_ms: Object.fromEntries(fractions.map((f) => [key(f), fresh(f, 'p99_ms')])),
      clickhouse_write_rows_per_s: spread(pipelines.map((p) => p.at_max?.clickhouse_rows_per_s ?? null)),
      ratio_pipeline_to_kafka: spread(pipelines.map((p, i) => ratio(p.max_sustained_events_per_s, limits[i]?.kafka.produce_consume_records_per_s))),
      ratio_clickhouse_writes_to_insert: spread(pipelines.map((p, i) => ratio(p.at_max?.clickhouse_rows_per_s, limits[i]?.clickhouse.rows_per_s))),
    },
    limits,
    stages,
    pipeline: pipelines,
    peer: { status: peer.status, samples: pipelines[0].peer_samples, river: peer.river, ours, table: peerTable(peer.river, ours) },
    figures: [],
    notes,
  };
  const points: FreshnessPoint[] = pipelines.flatMap((p, run) => p.freshness.map((f) => ({ run: run + 1, rate: f.achieved_rate || f.rate, p50_ms: f.p50_ms, p99_ms: f.p99_ms })));
  await writeBenchReport(dir, join(reportsDir, 'latest'), report, points);
  log(`report: ${join(dir, 'report.md')} (copy in ${join(reportsDir, 'latest')})`);
  console.log(readFileSync(join(dir, 'report.md'), 'utf8'));
}

// Run directly (node dist/bench/bench.js) or through scripts/run.js, which require()s the file.
if (require.main === module || process.argv[1] === __filename) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack ?? e.message : String(e));
    process.exit(1);
  });
}
