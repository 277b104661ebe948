import type { CanonicalEventJson } from '../canonical-event';
import type { LineParser, LineResult } from './types';

/** Event time of a canonical event in epoch ms: a number (ms) or an ISO-8601 string with a zone. */
export function canonicalTs(ts: unknown): number | null {
  if (typeof ts === 'number') return Number.isFinite(ts) ? Math.round(ts) : null;
  if (typeof ts === 'string') {
    const t = ts.trim();
    if (/^\d{1,16}$/.test(t)) return Number(t);
    // A zone is required: a bare local time would be read in the machine's zone.
    if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(t)) return null;
    const ms = Date.parse(t);
    return Number.isFinite(ms) ? ms : null;
  }
  return null;
}

/**
 * Canonical NDJSON: one event per line, as in CONTRACTS.md. Events are passed on as written (the
 * ingestor validates them); only what ordering needs is checked here: a JSON object with a
 * readable `ts`. A line without an `event_id` gets `canonical:<file>:<line>`.
 */
export function canonicalParser(fileName: string): LineParser {
  return {
    parse(line: string, lineNo: number): LineResult {
      if (line.trim().length === 0) return { kind: 'skip' };
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (e) {
        return { kind: 'error', reason: `not JSON: ${(e as Error).message}` };
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'error', reason: 'not a JSON object' };
      const event = value as CanonicalEventJson;
      const ts = canonicalTs(event.ts);
      if (ts === null) return { kind: 'error', reason: `ts: not epoch ms or ISO-8601 with zone (${JSON.stringify(event.ts)})` };
      if (event.event_id === undefined || event.event_id === null || event.event_id === '') {
        event.event_id = `canonical:${fileName}:${lineNo}`;
      }
      return { kind: 'event', event, ts };
    },
  };
}
