import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FigureContext, freshnessSpec, PeerBar, peerSpec, ThroughputBar, throughputSpec, VegaLiteSpec } from './plots';
import { renderSvg } from './render';
import { Spread } from './stats';

/** The benchmark report (reports/<timestamp>/report.json); report.md is written from it. */
export interface BenchReport {
  meta: {
    command: string;
    mode: string;
    started_at: string;
    finished_at: string;
    dataset: string;
    seed: number;
    runs: number;
    git_commit: string | null;
    machine: { cores: number; cpu_model: string; memory_gb: number; platform: string; node: string };
    /** 1-minute load average when the run started and ended (other work sharing the machine). */
    load_avg_1m: { start: number; end: number };
  };
  /** Medians and spreads of the key numbers over the runs. */
  summary: {
    kafka_produce_records_per_s: Spread | null;
    kafka_consume_records_per_s: Spread | null;
    kafka_produce_consume_records_per_s: Spread | null;
    clickhouse_insert_rows_per_s: Spread | null;
    pipeline_events_per_s: Spread | null;
    freshness_p50_ms: Record<string, Spread | null>;
    freshness_p99_ms: Record<string, Spread | null>;
    clickhouse_write_rows_per_s: Spread | null;
    ratio_pipeline_to_kafka: Spread | null;
    ratio_clickhouse_writes_to_insert: Spread | null;
  };
  limits: unknown[];
  stages: Record<string, { status: 'ok' | 'reused' | 'missing' | 'failed' | 'skipped'; seconds?: number; report?: unknown; error?: string; reused_from?: string }>;
  pipeline: unknown[];
  peer: {
    status: string;
    samples: number;
    river: unknown;
    ours: unknown;
    table: { target: string; learner: string; n: number | null; accuracy: number | null; macro_f1: number | null; samples_per_s: number | null }[];
  };
  figures: { file: string; title: string }[];
  notes: string[];
}

export function machineLine(m: BenchReport['meta']['machine']): string {
  return `${m.cores} cores (${m.cpu_model}), ${m.memory_gb} GB RAM, ${m.platform}, Node ${m.node}`;
}

const n0 = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const n3 = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '–');
const sp = (s: Spread | null | undefined, fmt = n0) =>
  s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)}, n=${s.runs.length})` : '–';

export function renderMarkdown(r: BenchReport): string {
  const s = r.summary;
  const fr = Object.keys(s.freshness_p50_ms);
  const lines = [
    `# Portrait benchmark — ${r.meta.started_at}`,
    '',
    `Command \`${r.meta.command}\` (${r.meta.mode}), dataset \`${r.meta.dataset}\`, seed ${r.meta.seed}, ${r.meta.runs} run(s); machine: ${machineLine(r.meta.machine)}; commit ${r.meta.git_commit ?? 'unknown'}.`,
    `Numbers are medians over the runs, with (min–max, number of runs). 1-minute load average ${r.meta.load_avg_1m.start} at the start, ${r.meta.load_avg_1m.end} at the end (on ${r.meta.machine.cores} cores: above that, every process waited for CPU and all rates are lower than on an idle machine).`,
    '',
    '## Key numbers',
    '',
    '| measurement | median (min–max, runs) |',
    '|---|---|',
    `| whole pipeline, highest input rate with bounded lag | ${sp(s.pipeline_events_per_s)} events/s |`,
    ...fr.map((k) => `| freshness p50 / p99 at ${k} of that rate | ${sp(s.freshness_p50_ms[k])} ms / ${sp(s.freshness_p99_ms[k])} ms |`),
    `| Kafka's own produce / consume (perf tools, event-size records, 6 partitions) | ${sp(s.kafka_produce_records_per_s)} / ${sp(s.kafka_consume_records_per_s)} records/s |`,
    `| Kafka produce-then-consume rate, 1/(1/p + 1/c) | ${sp(s.kafka_produce_consume_records_per_s)} records/s |`,
    `| ClickHouse's own insert rate (clickhouse-client, TSV, events table) | ${sp(s.clickhouse_insert_rows_per_s)} rows/s |`,
    `| ClickHouse rows written by the pipeline at its highest rate | ${sp(s.clickhouse_write_rows_per_s)} rows/s |`,
    `| **ratio** pipeline events/s ÷ Kafka produce+consume records/s | ${sp(s.ratio_pipeline_to_kafka, n3)} |`,
    `| **ratio** pipeline ClickHouse rows/s ÷ ClickHouse's own insert rows/s | ${sp(s.ratio_clickhouse_writes_to_insert, n3)} |`,
    '',
    '## Each stage alone',
    '',
    '| stage | status | headline numbers |',
    '|---|---|---|',
    ...Object.entries(r.stages).map(
      ([name, st]) =>
        `| ${name} | ${st.status}${st.reused_from ? ` (report of ${st.reused_from})` : ''}${st.seconds ? ` (${st.seconds.toFixed(0)} s)` : ''} | ${stageHeadline(st.report) || (st.error ?? '').slice(0, 160).replace(/\|/g, '/').replace(/\n/g, ' ')} |`,
    ),
    '',
    `Full per-stage reports: \`reports/bench-<stage>.md\` (written by each stage's own benchmark).`,
    '',
    '## Peer comparison (River, same UserFeatures stream, same run)',
    '',
    `Status: ${r.peer.status}; ${r.peer.samples} samples.`,
    '',
    '| target | learner | n | accuracy | macro-F1 | samples/s |',
    '|---|---|---|---|---|---|',
    ...r.peer.table.map((t) => `| ${t.target} | ${t.learner} | ${n0(t.n)} | ${n3(t.accuracy)} | ${n3(t.macro_f1)} | ${n0(t.samples_per_s)} |`),
    '',
    '## Figures',
    '',
    ...r.figures.map((f) => `![${f.title}](${f.file})`),
    '',
    ...(r.notes.length ? ['## Notes', '', ...r.notes.map((n) => `- ${n}`), ''] : []),
    'How to read this report: `docs/benchmarks.md`.',
    '',
  ];
  return lines.join('\n');
}

/** The stage benchmarks share one JSON shape (bench/lib/report.ts): `measurements: [{name, value, unit}]`. */
export function stageMeasurements(report: unknown): { name: string; value: number; unit: string }[] {
  const ms = (report as { measurements?: unknown } | undefined)?.measurements;
  // The training benchmark writes rows per backend/mode/batch with a median rate instead.
  const rows = (report as { rows?: unknown } | undefined)?.rows;
  if (!Array.isArray(ms) && Array.isArray(rows)) {
    return rows
      .filter((r): r is { backend: string; mode: string; batch: number; median_per_s: number } => typeof (r as { median_per_s?: unknown }).median_per_s === 'number')
      .map((r) => ({ name: `${r.mode} ${r.backend} batch ${r.batch}`, value: r.median_per_s, unit: r.mode === 'predict' ? 'predictions/s' : 'samples/s' }));
  }
  if (!Array.isArray(ms)) return [];
  return ms.filter(
    (m): m is { name: string; value: number; unit: string } =>
      typeof m === 'object' && m !== null && typeof (m as { name?: unknown }).name === 'string' && typeof (m as { value?: unknown }).value === 'number' && typeof (m as { unit?: unknown }).unit === 'string',
  );
}

function stageHeadline(report: unknown): string {
  return stageMeasurements(report)
    .filter((m) => m.unit.includes('/s'))
    .slice(0, 4)
    .map((m) => `${m.name}: ${n0(m.value)} ${m.unit}`)
    .join('; ');
}

export function throughputBars(r: BenchReport): ThroughputBar[] {
  const s = r.summary;
  const bars: ThroughputBar[] = [];
  const add = (label: string, group: ThroughputBar['group'], v: number | null | undefined, unit: string) => {
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) bars.push({ label, group, per_s: v, unit });
  };
  add('Kafka produce (perf tool)', 'machine limit', s.kafka_produce_records_per_s?.median, 'records/s');
  add('Kafka consume (perf tool)', 'machine limit', s.kafka_consume_records_per_s?.median, 'records/s');
  add('Kafka produce+consume', 'machine limit', s.kafka_produce_consume_records_per_s?.median, 'records/s');
  add('ClickHouse insert (own client, TSV)', 'machine limit', s.clickhouse_insert_rows_per_s?.median, 'rows/s');
  for (const [name, st] of Object.entries(r.stages)) {
    for (const m of stageMeasurements(st.report)) if (m.unit.includes('/s') && !/latency|bytes|ms/i.test(m.unit)) add(`${name}: ${m.name}`, 'stage alone', m.value, m.unit);
  }
  add('whole pipeline (bounded lag)', 'whole pipeline', s.pipeline_events_per_s?.median, 'events/s');
  add('whole pipeline: ClickHouse rows written', 'whole pipeline', s.clickhouse_write_rows_per_s?.median, 'rows/s');
  return bars;
}

export function peerBars(r: BenchReport): PeerBar[] {
  return r.peer.table
    .filter((t) => typeof t.macro_f1 === 'number' && Number.isFinite(t.macro_f1))
    .map((t) => ({ target: t.target, learner: t.learner, macro_f1: t.macro_f1 as number, accuracy: t.accuracy }));
}

/** Renders the figures, writes report.json + report.md into `dir`, and mirrors the folder to `latestDir`. */
export async function writeBenchReport(
  dir: string,
  latestDir: string,
  r: BenchReport,
  freshness: Parameters<typeof freshnessSpec>[0],
): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const ctx: FigureContext = { command: r.meta.command, dataset: r.meta.dataset, seed: r.meta.seed, machine: machineLine(r.meta.machine), runs: r.meta.runs };
  const figures: [string, string, VegaLiteSpec][] = [
    ['freshness.svg', 'Freshness vs input rate', freshnessSpec(freshness, ctx)],
    ['throughput.svg', 'Throughput per stage vs machine limit', throughputSpec(throughputBars(r), ctx)],
    ['peer.svg', 'Peer comparison (macro-F1)', peerSpec(peerBars(r), ctx)],
  ];
  r.figures = [];
  for (const [file, title, spec] of figures) {
    writeFileSync(join(dir, file.replace(/\.svg$/, '.vl.json')), JSON.stringify(spec, null, 2));
    writeFileSync(join(dir, file), await renderSvg(spec));
    r.figures.push({ file, title });
  }
  writeFileSync(join(dir, 'report.json'), JSON.stringify(r, null, 2) + '\n');
  writeFileSync(join(dir, 'report.md'), renderMarkdown(r));
  rmSync(latestDir, { recursive: true, force: true });
  mkdirSync(latestDir, { recursive: true });
  // Files only: the services' log tails (logs/) stay with the timestamped run.
  for (const f of readdirSync(dir, { withFileTypes: true })) if (f.isFile() && !f.name.endsWith('.jsonl')) copyFileSync(join(dir, f.name), join(latestDir, f.name));
  // GitHub renders README.md of a folder: the latest report reads as the folder's page.
  copyFileSync(join(dir, 'report.md'), join(latestDir, 'README.md'));
}
