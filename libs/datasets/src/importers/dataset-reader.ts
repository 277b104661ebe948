import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { canonicalParser } from './canonical';
import { cleanLine } from './csv';
import { jdataActionParser } from './jdata';
import { taobaoParser } from './taobao';
import type { DatasetFormat, ImportedEvent, ImportIssue, LineParserFactory } from './types';

export const DATASETS_DIR_ENV = 'DATASETS_DIR';

/**
 * Where public datasets live: `$DATASETS_DIR`, else `../shared/data` next to the repository when
 * it exists, else null. Data is read from there, never copied into the repository.
 */
export function defaultDatasetsDir(repoRoot: string = process.cwd(), env: NodeJS.ProcessEnv = process.env): string | null {
  const fromEnv = env[DATASETS_DIR_ENV];
  if (fromEnv) return path.resolve(repoRoot, fromEnv);
  const shared = path.resolve(repoRoot, '..', 'shared', 'data');
  return fs.existsSync(shared) ? shared : null;
}

/** A source path as given, or relative to the datasets folder (`--source jdata-2017-sample`). */
export function resolveSource(source: string, datasetsDir: string | null = defaultDatasetsDir()): string {
  if (fs.existsSync(source)) return path.resolve(source);
  if (datasetsDir && !path.isAbsolute(source)) {
    const candidate = path.join(datasetsDir, source);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`source not found: ${source}${datasetsDir ? ` (also looked in ${datasetsDir})` : ''}`);
}

const FILE_PATTERNS: Record<DatasetFormat, RegExp> = {
  // Only the action files: JData_User/Product/Comment are not events.
  jdata: /^JData_Action.*\.csv$/i,
  taobao: /\.csv$/i,
  canonical: /\.(ndjson|jsonl|json)$/i,
};

/** Files of a dataset: the file itself, or the matching files of a folder (sorted by name). */
export async function listDatasetFiles(source: string, format: DatasetFormat): Promise<string[]> {
  const stat = await fs.promises.stat(source);
  if (stat.isFile()) return [source];
  const names = (await fs.promises.readdir(source)).filter((n) => FILE_PATTERNS[format].test(n)).sort();
  if (names.length === 0) throw new Error(`no ${format} files in ${source} (expected names matching ${FILE_PATTERNS[format]})`);
  return names.map((n) => path.join(source, n));
}

export function parserFor(format: DatasetFormat): LineParserFactory {
  switch (format) {
    case 'canonical':
      return canonicalParser;
    case 'jdata':
      return jdataActionParser;
    case 'taobao':
      return taobaoParser;
  }
}

export interface DatasetReadOptions {
  /** A row that could not be imported (it is skipped). */
  onIssue?: (issue: ImportIssue) => void;
  /** Informational notes (e.g. a file sorted in memory). */
  onNote?: (message: string) => void;
}

async function* lines(file: string): AsyncGenerator<string> {
  const rl = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let first = true;
  try {
    for await (const line of rl) {
      yield cleanLine(line, first);
      first = false;
    }
  } finally {
    rl.close();
  }
}

async function* parseFile(file: string, factory: LineParserFactory, onIssue?: (i: ImportIssue) => void): AsyncGenerator<ImportedEvent> {
  const name = path.basename(file);
  const parser = factory(name);
  let lineNo = 0;
  for await (const line of lines(file)) {
    lineNo++;
    const r = parser.parse(line, lineNo);
    if (r.kind === 'event') yield { event: r.event, ts: r.ts, file: name, line: lineNo };
    else if (r.kind === 'error') onIssue?.({ file: name, line: lineNo, reason: r.reason });
  }
}

/**
 * One file's events in event-time order. A first streaming pass checks the order; a file in
 * order is then streamed (constant memory, fit for the full datasets), a file out of order is
 * loaded and stably sorted in memory (fine for the samples, which are small).
 */
export async function* readFileInOrder(file: string, format: DatasetFormat, options: DatasetReadOptions = {}): AsyncGenerator<ImportedEvent> {
  const factory = parserFor(format);
  let prev = -Infinity;
  let sorted = true;
  for await (const e of parseFile(file, factory)) {
    if (e.ts < prev) {
      sorted = false;
      break;
    }
    prev = e.ts;
  }
  if (sorted) {
    yield* parseFile(file, factory, options.onIssue);
    return;
  }
  const all: ImportedEvent[] = [];
  for await (const e of parseFile(file, factory, options.onIssue)) all.push(e);
  all.sort((a, b) => a.ts - b.ts || a.line - b.line);
  options.onNote?.(`${path.basename(file)} is not in event-time order: sorted its ${all.length} rows in memory`);
  yield* all;
}

/**
 * Every event of a dataset (a file or a folder) in event-time order across its files: a k-way
 * merge of the per-file ordered streams; ties keep file order, then line order.
 */
export async function* readDataset(source: string, format: DatasetFormat, options: DatasetReadOptions = {}): AsyncGenerator<ImportedEvent> {
  const files = await listDatasetFiles(source, format);
  const iters = files.map((f) => readFileInOrder(f, format, options));
  const heads: (ImportedEvent | null)[] = [];
  try {
    for (const it of iters) {
      const r = await it.next();
      heads.push(r.done ? null : r.value);
    }
    for (;;) {
      let best = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h !== null && (best < 0 || h.ts < (heads[best] as ImportedEvent).ts)) best = i;
      }
      if (best < 0) return;
      yield heads[best] as ImportedEvent;
      const r = await iters[best].next();
      heads[best] = r.done ? null : r.value;
    }
  } finally {
    for (const it of iters) await it.return(undefined);
  }
}
