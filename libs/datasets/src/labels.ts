import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { UserAttributesInput } from '@app/contracts';
import type { LabelRow } from './canonical-event';
import { cleanLine, splitCsvLine } from './importers/csv';
import { ImportIssue, normalizeId } from './importers/types';

export interface ReadLabelsOptions {
  /** Cell values that mean "unknown" besides the empty cell (e.g. `-1`). */
  unknownValues?: readonly string[];
  /** Per-column unknown tokens (JData: sex `2`). */
  unknownByColumn?: Readonly<Record<string, readonly string[]>>;
  /** Only these columns become attributes (default: every column but user_id). */
  columns?: readonly string[];
  /** Rename columns (source name → attribute name). */
  rename?: Readonly<Record<string, string>>;
  onIssue?: (issue: ImportIssue) => void;
}

/** JData_User.csv columns that become labels, and what means unknown there. */
export const JDATA_USER_LABELS: Required<Pick<ReadLabelsOptions, 'columns' | 'unknownValues' | 'unknownByColumn'>> = {
  columns: ['age', 'sex', 'user_lv_cd'],
  unknownValues: ['-1'],
  unknownByColumn: { sex: ['2'] },
};

/** Is this header the one of JData_User.csv? */
export function isJDataUserHeader(header: readonly string[]): boolean {
  const h = header.map((c) => c.trim().toLowerCase());
  return h[0] === 'user_id' && ['age', 'sex', 'user_lv_cd'].every((c) => h.includes(c));
}

/**
 * Labels from CSV lines: header `user_id,<attribute>,...`; each other column is a categorical
 * attribute; an empty cell (or an unknown token) is null. Rows with the wrong number of cells or
 * no user id are reported and skipped.
 */
export function parseLabelLines(lines: Iterable<string>, fileName: string, options: ReadLabelsOptions = {}): LabelRow[] {
  const unknown = new Set((options.unknownValues ?? []).map((v) => v.trim()));
  const rows: LabelRow[] = [];
  let header: string[] | null = null;
  let lineNo = 0;
  for (const raw of lines) {
    lineNo++;
    const line = cleanLine(raw, lineNo === 1);
    if (line.trim().length === 0) continue;
    const cells = splitCsvLine(line).map((c) => c.trim());
    if (header === null) {
      header = cells.map((c) => c.toLowerCase());
      if (header[0] !== 'user_id') throw new Error(`${fileName}:1: labels header must start with user_id (got ${JSON.stringify(cells[0])})`);
      if (options.columns) {
        const missing = options.columns.filter((c) => !(header as string[]).includes(c));
        if (missing.length > 0) throw new Error(`${fileName}:1: labels header lacks ${missing.join(', ')}`);
      }
      continue;
    }
    if (cells.length !== header.length) {
      options.onIssue?.({ file: fileName, line: lineNo, reason: `expected ${header.length} cells, got ${cells.length}` });
      continue;
    }
    const user = normalizeId(cells[0]);
    if (user === '') {
      options.onIssue?.({ file: fileName, line: lineNo, reason: 'user_id: empty' });
      continue;
    }
    const attributes: Record<string, string | null> = {};
    for (let i = 1; i < header.length; i++) {
      const col = header[i];
      if (options.columns && !options.columns.includes(col)) continue;
      const v = cells[i];
      const isUnknown = v === '' || unknown.has(v) || (options.unknownByColumn?.[col]?.includes(v) ?? false);
      attributes[options.rename?.[col] ?? col] = isUnknown ? null : v;
    }
    rows.push({ user_id: user, attributes });
  }
  if (header === null) throw new Error(`${fileName}: empty labels file`);
  return rows;
}

async function readLines(file: string): Promise<string[]> {
  const out: string[] = [];
  const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of rl) out.push(line);
  return out;
}

/** Reads a labels CSV (see parseLabelLines). */
export async function readLabels(csvPath: string, options: ReadLabelsOptions = {}): Promise<LabelRow[]> {
  return parseLabelLines(await readLines(csvPath), path.basename(csvPath), options);
}

/**
 * Labels from JData_User.csv (`user_id,age,sex,user_lv_cd,user_reg_tm`): attributes `age`,
 * `sex`, `user_lv_cd`, with `-1` unknown everywhere and sex `2` unknown; `user_reg_tm` is not a
 * label. Extra unknown tokens may be added.
 */
export async function readJDataUserLabels(csvPath: string, options: Pick<ReadLabelsOptions, 'unknownValues' | 'onIssue'> = {}): Promise<LabelRow[]> {
  return readLabels(csvPath, {
    ...JDATA_USER_LABELS,
    unknownValues: [...JDATA_USER_LABELS.unknownValues, ...(options.unknownValues ?? [])],
    onIssue: options.onIssue,
  });
}

/** Reads a labels file, recognising JData_User.csv by its header. */
export async function readLabelsAuto(csvPath: string, options: ReadLabelsOptions = {}): Promise<LabelRow[]> {
  const lines = await readLines(csvPath);
  const header = splitCsvLine(cleanLine(lines[0] ?? '', true));
  if (isJDataUserHeader(header)) {
    return parseLabelLines(lines, path.basename(csvPath), {
      ...JDATA_USER_LABELS,
      unknownValues: [...JDATA_USER_LABELS.unknownValues, ...(options.unknownValues ?? [])],
      onIssue: options.onIssue,
    });
  }
  return parseLabelLines(lines, path.basename(csvPath), options);
}

export interface LabelMessageOptions {
  /** `UserAttributes.source`, e.g. `labels:JData_User.csv`. */
  source: string;
  /** When the values held (deterministic, so a second replay publishes identical messages). */
  observedAt: number;
  labelSet: string | null;
}

/** Label rows as `UserAttributes` messages for user.attributes.v1. */
export function toUserAttributes(rows: readonly LabelRow[], options: LabelMessageOptions): UserAttributesInput[] {
  return rows.map((r) => ({
    user_id: r.user_id,
    attributes: r.attributes,
    source: options.source,
    observed_at: options.observedAt,
    label_set: options.labelSet,
  }));
}
