import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * `npm run bench -- --smoke` end to end (real Kafka, ClickHouse, the four services, the River
 * virtualenv): the report it writes is well-formed. Asserts shapes and presence, never timings.
 * Uses the build in dist/ (scripts/test.sh builds before the tiers run).
 */
const ROOT = join(__dirname, '..', '..');

function runBench(reportsDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'run.js'), 'bench/bench', '--smoke', '--reports-dir', reportsDir], {
      cwd: ROOT,
      env: { ...process.env, PORTRAIT_NO_BUILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

describe('npm run bench -- --smoke', () => {
  const reportsDir = mkdtempSync(join(tmpdir(), 'portrait-bench-'));
  // The report is read back as plain JSON and probed key by key.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let report: Record<string, any>;
  let runDir: string;

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'dist', 'bench', 'bench.js'))).toBe(true);
    const { code, output } = await runBench(reportsDir);
    if (code !== 0) throw new Error(`bench exited with ${code}:\n${output.slice(-4000)}`);
    const runs = readdirSync(reportsDir).filter((d) => d !== 'latest');
    expect(runs).toHaveLength(1);
    runDir = join(reportsDir, runs[0]);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    report = JSON.parse(readFileSync(join(runDir, 'report.json'), 'utf8')) as Record<string, any>;
  }, 900_000);

  afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

  it('names the command, dataset, seed and machine', () => {
    expect(report.meta).toMatchObject({ mode: 'smoke', seed: 1, runs: 1 });
    expect(report.meta.command).toContain('npm run bench');
    expect(report.meta.dataset).toContain('generator');
    expect(positive(report.meta.machine.cores)).toBe(true);
    expect(positive(report.meta.machine.memory_gb)).toBe(true);
  });

  it("measures the machine's limit with Kafka's and ClickHouse's own tools", () => {
    const [l] = report.limits;
    expect(positive(l.event_size.mean_bytes)).toBe(true);
    for (const k of ['produce_records_per_s', 'consume_records_per_s', 'produce_consume_records_per_s', 'produce_mb_per_s']) expect(positive(l.kafka[k])).toBe(true);
    expect(l.kafka.topic_partitions).toBe(6);
    expect(positive(l.clickhouse.rows_per_s)).toBe(true);
    expect(l.clickhouse.rows).toBeGreaterThan(0);
  });

  it('runs the whole pipeline: a sustained rate, per-process CPU/RSS, freshness steps, ratios', () => {
    const [p] = report.pipeline;
    expect(positive(p.max_sustained_events_per_s)).toBe(true);
    expect(p.events_produced).toBeGreaterThan(0);
    expect(p.freshness.map((f: { fraction: number }) => f.fraction)).toEqual([0.25, 0.5, 0.75]);
    const search = p.steps.filter((s: { phase: string }) => s.phase === 'search');
    expect(search.length).toBeGreaterThan(0);
    for (const s of p.steps) {
      expect(Object.keys(s.lag_end).sort()).toEqual(['feature-aggregator', 'ingestor-raw', 'profile-publisher', 'trainer']);
      for (const app of ['ingestor', 'feature-aggregator', 'trainer', 'profile-publisher']) {
        expect(positive(s.processes[app]?.rss_mb)).toBe(true);
        expect(Number.isFinite(s.processes[app]?.cpu_pct)).toBe(true);
      }
    }
    expect(positive(report.summary.pipeline_events_per_s.median)).toBe(true);
    expect(positive(report.summary.ratio_pipeline_to_kafka.median)).toBe(true);
    expect(report.summary).toHaveProperty('ratio_clickhouse_writes_to_insert');
    expect(report.summary).toHaveProperty('freshness_p99_ms');
  });

  it('runs the River peer on the exported stream, beside our trainer where it published metrics', () => {
    expect(report.peer).toHaveProperty('status');
    expect(report.peer.samples).toBeGreaterThan(0);
    expect(report.peer.status).toBe('ok');
    expect(report.peer.river.version).toBe('0.26.1');
    const river = report.peer.table.filter((t: { learner: string }) => t.learner.startsWith('river '));
    expect(river.length).toBeGreaterThan(0);
    for (const t of river) expect(t.macro_f1 === null || (t.macro_f1 >= 0 && t.macro_f1 <= 1)).toBe(true);
  });

  it('writes report.md and SVG figures, and mirrors them to latest/', () => {
    const md = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(md).toContain('## Key numbers');
    for (const f of ['freshness.svg', 'throughput.svg', 'peer.svg']) {
      expect(readFileSync(join(runDir, f), 'utf8').startsWith('<svg')).toBe(true);
      expect(md).toContain(`](${f})`);
      expect(existsSync(join(reportsDir, 'latest', f))).toBe(true);
    }
    expect(existsSync(join(reportsDir, 'latest', 'README.md'))).toBe(true);
  });
});
