/**
 * Vega-Lite specifications of the report's figures. Pure (no rendering here: see render.ts), so
 * a unit test can check them. Every figure carries, under its title, the command that produced
 * it, the dataset, the seed and the machine, as the report must be reproducible from the figure.
 */
export interface FigureContext {
  command: string;
  dataset: string;
  seed: number;
  machine: string;
  runs: number;
}

export type VegaLiteSpec = Record<string, unknown>;

export function provenance(c: FigureContext): string[] {
  return [`${c.command}  ·  dataset ${c.dataset}, seed ${c.seed}, ${c.runs} run(s)`, `machine: ${c.machine}`];
}

function base(title: string, c: FigureContext, width = 560): VegaLiteSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, subtitle: provenance(c), anchor: 'start', subtitleFontSize: 10 },
    width,
    background: 'white',
    config: { font: 'sans-serif' },
  };
}

export interface FreshnessPoint {
  run: number;
  rate: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

/** Freshness (profile published − event ingested) p50 and p99 against the input rate, one point per run. */
export function freshnessSpec(points: FreshnessPoint[], c: FigureContext): VegaLiteSpec {
  const values = points.flatMap((p) => [
    ...(p.p50_ms !== null ? [{ rate: p.rate, ms: p.p50_ms, quantile: 'p50', run: p.run }] : []),
    ...(p.p99_ms !== null ? [{ rate: p.rate, ms: p.p99_ms, quantile: 'p99', run: p.run }] : []),
  ]);
  return {
    ...base('Freshness vs input rate (profile published − event ingested)', c),
    height: 280,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'rate', type: 'quantitative', title: 'input rate (events/s)' },
      y: { field: 'ms', type: 'quantitative', title: 'freshness (ms)' },
      color: { field: 'quantile', type: 'nominal', title: 'quantile' },
      detail: { field: 'run', type: 'nominal' },
    },
  };
}

export interface ThroughputBar {
  /** What was measured (stage and measurement, or limit). */
  label: string;
  group: 'machine limit' | 'stage alone' | 'whole pipeline';
  per_s: number;
  unit: string;
}

/** Throughput of each stage alone and of the whole pipeline beside the machine's own limits (log scale). */
export function throughputSpec(bars: ThroughputBar[], c: FigureContext): VegaLiteSpec {
  return {
    ...base('Throughput per stage vs the machine limit (median of runs)', c, 480),
    data: { values: bars.filter((b) => b.per_s > 0).map((b) => ({ ...b, text: `${Math.round(b.per_s).toLocaleString('en-US')} ${b.unit}` })) },
    encoding: {
      y: { field: 'label', type: 'nominal', title: null, sort: null, axis: { labelLimit: 320 } },
      x: { field: 'per_s', type: 'quantitative', scale: { type: 'log' }, title: 'per second (log scale)' },
    },
    layer: [
      { mark: 'bar', encoding: { color: { field: 'group', type: 'nominal', title: null } } },
      { mark: { type: 'text', align: 'left', dx: 3, fontSize: 9 }, encoding: { text: { field: 'text' } } },
    ],
  };
}

export interface PeerBar {
  target: string;
  learner: string;
  macro_f1: number;
  accuracy: number | null;
}

/** Prequential macro-F1 per target: our trainer, River's models, and the majority-class baseline. */
export function peerSpec(bars: PeerBar[], c: FigureContext): VegaLiteSpec {
  return {
    ...base('Prequential macro-F1 per target: Portrait trainer vs River (same stream, same run)', c, 140),
    data: { values: bars },
    mark: 'bar',
    encoding: {
      column: { field: 'target', type: 'nominal', title: null },
      x: { field: 'learner', type: 'nominal', title: null, axis: { labelAngle: -40 } },
      y: { field: 'macro_f1', type: 'quantitative', title: 'macro-F1', scale: { domain: [0, 1] } },
      color: { field: 'learner', type: 'nominal', legend: null },
      tooltip: [{ field: 'accuracy', type: 'quantitative' }],
    },
  };
}
