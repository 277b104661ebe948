import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostSpeed } from './host-speed';

/** One measured number with its unit and, where there is one, the target it is held against. */
export interface Measurement {
  name: string;
  value: number;
  unit: string;
  /** `>=` or `<=` the target; omitted when the number is reported only. */
  target?: { op: '>=' | '<='; value: number };
  note?: string;
}

export function meets(m: Measurement): boolean | null {
  if (!m.target) return null;
  return m.target.op === '>=' ? m.value >= m.target.value : m.value <= m.target.value;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString());

/**
 * Writes `reports/<name>.json` (everything, for tools) and `reports/<name>.md` (a table for
 * people) under the repository root. The context gets `host_speed` (measured now, see
 * host-speed.ts) unless the caller measured it itself.
 */
export function writeReport(
  root: string,
  name: string,
  title: string,
  measurements: Measurement[],
  context: Record<string, unknown>,
  notes: string[] = [],
): { json: string; md: string } {
  const dir = join(root, 'reports');
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${name}.json`);
  const md = join(dir, `${name}.md`);
  const at = new Date().toISOString();
  if (!('host_speed' in context)) context = { ...context, host_speed: hostSpeed() };
  writeFileSync(json, `${JSON.stringify({ name, title, at, context, measurements: measurements.map((m) => ({ ...m, meets: meets(m) })) }, null, 2)}\n`);
  const rows = measurements.map((m) => {
    const ok = meets(m);
    const target = m.target ? `${m.target.op} ${fmt(m.target.value)}` : '';
    return `| ${m.name} | ${fmt(m.value)} ${m.unit} | ${target} | ${ok === null ? '' : ok ? 'yes' : '**no**'} | ${m.note ?? ''} |`;
  });
  const ctx = Object.entries(context).map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  writeFileSync(
    md,
    [`# ${title}`, '', `Run at ${at}.`, '', '| measurement | value | target | met | note |', '|---|---|---|---|---|', ...rows, '', '## Context', '', ...ctx, ...(notes.length ? ['', '## Notes', '', ...notes.map((n) => `- ${n}`)] : []), ''].join('\n'),
  );
  return { json, md };
}
