import { freshnessSpec, peerSpec, provenance, throughputSpec } from './plots';
import { BenchReport, peerBars, renderMarkdown, stageMeasurements, throughputBars } from './report';
import { percentile, ratio, spread } from './stats';

const ctx = { command: 'npm run bench', dataset: 'generator', seed: 7, machine: '2 cores, 8 GB', runs: 3 };

function report(): BenchReport {
  const s = (v: number) => spread([v, v * 1.1, v * 0.9]);
  return {
    meta: {
      command: 'npm run bench',
      mode: 'quick',
      started_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:05:00.000Z',
      dataset: 'generator',
      seed: 7,
      runs: 3,
      git_commit: 'abc1234',
      machine: { cores: 2, cpu_model: 'cpu', memory_gb: 8, platform: 'linux x64', node: 'v20' },
      load_avg_1m: { start: 1.5, end: 2 },
    },
    summary: {
      kafka_produce_records_per_s: s(50000),
      kafka_consume_records_per_s: s(90000),
      kafka_produce_consume_records_per_s: s(32000),
      clickhouse_insert_rows_per_s: s(400000),
      pipeline_events_per_s: s(4000),
      freshness_p50_ms: { '25%': s(300) },
      freshness_p99_ms: { '25%': s(900) },
      clickhouse_write_rows_per_s: s(5000),
      ratio_pipeline_to_kafka: s(0.125),
      ratio_clickhouse_writes_to_insert: s(0.0125),
    },
    limits: [],
    stages: { ingest: { status: 'ok', report: { measurements: [{ name: 'http events/s', value: 20000, unit: 'events/s' }, { name: 'p99', value: 5, unit: 'ms' }] } }, train: { status: 'missing' } },
    pipeline: [],
    peer: { status: 'ok', samples: 10, river: null, ours: null, table: [{ target: 'gender', learner: 'river hoeffding_adaptive_tree', n: 10, accuracy: 0.7, macro_f1: 0.6, samples_per_s: 900 }] },
    figures: [{ file: 'freshness.svg', title: 'Freshness' }],
    notes: ['a note'],
  };
}

describe('report stats', () => {
  it('nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(v, 0.5)).toBe(50);
    expect(percentile(v, 0.99)).toBe(99);
    expect(percentile([5], 0.99)).toBe(5);
    expect(percentile([], 0.5)).toBeNaN();
  });
  it('median and spread of runs, ignoring missing values', () => {
    expect(spread([3, 1, null, 2])).toEqual({ median: 2, min: 1, max: 3, rel_spread: 1, runs: [3, 1, 2] });
    expect(spread([null, undefined])).toBeNull();
  });
  it('ratios only of positive denominators', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 4)).toBeNull();
  });
});

describe('report figures', () => {
  it('every figure names the command, dataset, seed and machine', () => {
    const specs = [
      freshnessSpec([{ run: 1, rate: 100, p50_ms: 10, p99_ms: null }], ctx),
      throughputSpec([{ label: 'x', group: 'machine limit', per_s: 5, unit: 'records/s' }], ctx),
      peerSpec([{ target: 't', learner: 'l', macro_f1: 0.5, accuracy: 0.6 }], ctx),
    ];
    for (const spec of specs) {
      const sub = (spec.title as { subtitle: string[] }).subtitle.join(' ');
      expect(sub).toContain('npm run bench');
      expect(sub).toContain('dataset generator');
      expect(sub).toContain('seed 7');
      expect(sub).toContain('2 cores, 8 GB');
    }
    expect(provenance(ctx)).toHaveLength(2);
    // A missing p99 is left out, not plotted as 0.
    expect((freshnessSpec([{ run: 1, rate: 100, p50_ms: 10, p99_ms: null }], ctx).data as { values: unknown[] }).values).toHaveLength(1);
  });

  it('throughput bars: limits, stage rates (not latencies) and the pipeline', () => {
    const labels = throughputBars(report()).map((b) => b.label);
    expect(labels).toContain('Kafka produce+consume');
    expect(labels).toContain('ingest: http events/s');
    expect(labels).not.toContain('ingest: p99');
    expect(labels).toContain('whole pipeline (bounded lag)');
    expect(peerBars(report())).toEqual([{ target: 'gender', learner: 'river hoeffding_adaptive_tree', macro_f1: 0.6, accuracy: 0.7 }]);
    expect(stageMeasurements({ measurements: [{ name: 1 }] })).toEqual([]);
    expect(stageMeasurements({ rows: [{ backend: 'wasm', mode: 'train', batch: 256, median_per_s: 5000 }] })).toEqual([{ name: 'train wasm batch 256', value: 5000, unit: 'samples/s' }]);
  });

  it('markdown carries the key numbers, provenance and figures', () => {
    const md = renderMarkdown(report());
    expect(md).toContain('npm run bench');
    expect(md).toContain('seed 7');
    expect(md).toContain('4,000 (3,600–4,400, n=3) events/s');
    expect(md).toContain('| ingest | ok | http events/s: 20,000 events/s |');
    expect(md).toContain('![Freshness](freshness.svg)');
  });
});
