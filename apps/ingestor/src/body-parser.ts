export type ParsedBody =
  | {
      ok: true;
      items: unknown[];
      /** The original bytes of item `i` (NDJSON: its line; JSON array: the item re-serialised). */
      rawOf: (i: number) => Buffer;
    }
  | { ok: false; status: 400 | 413; error: string; message: string };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a collector body: a JSON array, a single JSON object, or NDJSON (one event per line).
 * JSON.parse defines keys as own data properties, so `__proto__` keys cannot reach a prototype;
 * the normaliser reads only own properties. Errors say where: invalid UTF-8 → 400 with the byte
 * offset, unparseable JSON → 400 with line and column, more events than allowed → 413.
 */
export function parseEventsBody(body: unknown, maxEvents: number): ParsedBody {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    return { ok: false, status: 400, error: 'empty_body', message: 'expected a JSON array or NDJSON of events' };
  }
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    return { ok: false, status: 400, error: 'invalid_utf8', message: `body is not valid UTF-8 (first bad byte at offset ${firstBadUtf8(body)})` };
  }
  let start = 0;
  while (start < text.length && isSpace(text.charCodeAt(start))) start++;
  if (text.charCodeAt(start) === 0xfeff) start++; // BOM
  const first = text[start];
  if (first === '[') {
    let arr: unknown;
    try {
      arr = JSON.parse(text);
    } catch (e) {
      return { ok: false, status: 400, error: 'invalid_json', message: `body is not valid JSON: ${where(text, e)}` };
    }
    if (!Array.isArray(arr)) return { ok: false, status: 400, error: 'invalid_json', message: 'expected an array' };
    if (arr.length > maxEvents) return tooMany(arr.length, maxEvents);
    return { ok: true, items: arr, rawOf: (i) => serialise(arr[i]) };
  }
  if (first === '{') {
    // A single (possibly pretty-printed) object, else NDJSON below.
    try {
      const one: unknown = JSON.parse(text);
      return { ok: true, items: [one], rawOf: () => Buffer.from(text.trim()) };
    } catch {
      /* NDJSON */
    }
  }
  const items: unknown[] = [];
  const lines: string[] = [];
  let lineNo = 0;
  let pos = 0;
  while (pos <= text.length) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.slice(pos, end).trim();
    pos = end + 1;
    if (line.length === 0) continue;
    if (items.length >= maxEvents) return tooMany(items.length + 1, maxEvents);
    try {
      items.push(JSON.parse(line));
      lines.push(line);
    } catch (e) {
      return { ok: false, status: 400, error: 'invalid_json', message: `line ${lineNo} is not valid JSON: ${(e as Error).message.slice(0, 200)}` };
    }
  }
  if (items.length === 0) return { ok: false, status: 400, error: 'empty_body', message: 'no events in body' };
  return { ok: true, items, rawOf: (i) => Buffer.from(lines[i] ?? '') };
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** JSON of one item for a dead letter; an item too deeply nested to re-serialise says so. */
function serialise(v: unknown): Buffer {
  try {
    return Buffer.from(JSON.stringify(v) ?? 'null');
  } catch {
    return Buffer.from('"(item nested too deeply to re-serialise)"');
  }
}

/** "line L column C: <V8 message>" when V8 reports a position. */
function where(text: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /position (\d+)/.exec(msg);
  if (!m?.[1]) return msg.slice(0, 200);
  const p = Number(m[1]);
  let line = 1;
  let col = 1;
  for (let i = 0; i < p && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return `line ${line} column ${col}: ${msg.slice(0, 200)}`;
}

/** Byte offset of the first invalid UTF-8 sequence (only called on the error path). */
function firstBadUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0 || i + n > b.length) return i;
    try {
      decoder.decode(b.subarray(i, i + n));
    } catch {
      return i;
    }
    i += n;
  }
  return i;
}

function tooMany(n: number, max: number): ParsedBody {
  return { ok: false, status: 413, error: 'too_many_events', message: `at most ${max} events per request (got ${n}${n > max ? '' : '+'})` };
}
