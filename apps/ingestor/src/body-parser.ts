export type ParsedBody =
  | { ok: true; items: unknown[]; raw: Buffer[] }
  | { ok: false; status: 400 | 413 | 415; error: string; message: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a collector body: a JSON array, a single JSON object, or NDJSON (one event per line).
 * Invalid UTF-8 and unparseable JSON are 400 with the line; more events than allowed is 413.
 */
export function parseEventsBody(body: unknown, maxEvents: number): ParsedBody {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    return { ok: false, status: 400, error: 'empty_body', message: 'expected a JSON array or NDJSON of events' };
  }
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return { ok: false, status: 400, error: 'invalid_utf8', message: 'body is not valid UTF-8' };
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (e) {
      return { ok: false, status: 400, error: 'invalid_json', message: `body is not valid JSON: ${(e as Error).message}` };
    }
    if (!Array.isArray(arr)) return { ok: false, status: 400, error: 'invalid_json', message: 'expected an array' };
    if (arr.length > maxEvents) return tooMany(arr.length, maxEvents);
    return { ok: true, items: arr, raw: arr.map((x) => Buffer.from(JSON.stringify(x) ?? 'null')) };
  }
  const lines = text.split('\n');
  const items: unknown[] = [];
  const raw: Buffer[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim() ?? '';
    if (line.length === 0) continue;
    if (items.length >= maxEvents) return tooMany(items.length + 1, maxEvents);
    try {
      items.push(JSON.parse(line));
      raw.push(Buffer.from(line));
    } catch (e) {
      return { ok: false, status: 400, error: 'invalid_json', message: `line ${i + 1} is not valid JSON: ${(e as Error).message}` };
    }
  }
  if (items.length === 0) return { ok: false, status: 400, error: 'empty_body', message: 'no events in body' };
  return { ok: true, items, raw };
}

function tooMany(n: number, max: number): ParsedBody {
  return { ok: false, status: 413, error: 'too_many_events', message: `at most ${max} events per request (got ${n}${n > max ? '' : '+'})` };
}
