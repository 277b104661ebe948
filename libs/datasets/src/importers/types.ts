import type { CanonicalEventJson } from '../canonical-event';

/** Dataset file formats the importers read. */
export const DATASET_FORMATS = ['canonical', 'jdata', 'taobao'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** One source row turned into a canonical event, with its event time for ordering. */
export interface ImportedEvent {
  event: CanonicalEventJson;
  /** Event time, epoch ms (UTC). */
  ts: number;
  /** Source file (basename) and 1-based physical line. */
  file: string;
  line: number;
}

/** A source row that could not be imported (counted, reported, skipped). */
export interface ImportIssue {
  file: string;
  line: number;
  reason: string;
}

export type LineResult = { kind: 'event'; event: CanonicalEventJson; ts: number } | { kind: 'skip' } | { kind: 'error'; reason: string };

/**
 * Parses the lines of one file in order (the first line may be a header). `fileName` goes into
 * the derived event ids: `<dataset>:<file>:<line>`, so every source row is one event id.
 */
export interface LineParser {
  parse(line: string, lineNo: number): LineResult;
}

export type LineParserFactory = (fileName: string) => LineParser;

/** `266079.0` → `266079`: ids written as floats by spreadsheet-era exports. */
export function normalizeId(raw: string): string {
  const s = raw.trim();
  const m = /^(-?\d+)\.0*$/.exec(s);
  return m ? m[1] : s;
}
