/**
 * The one place where values enter SQL text. ClickHouse 18.16 rejects query parameters
 * (`{name:Type}`), so every value is rendered here: strings quoted and escaped, numbers checked
 * finite, 64-bit ids as strings, identifiers whitelisted. This is also what stops SQL injection.
 */
export type SqlValue = string | number | bigint | boolean | null | Date | readonly SqlValue[];

const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\n': '\\n',
  '\t': '\\t',
  '\r': '\\r',
  '\0': '\\0',
  '\b': '\\b',
  '\f': '\\f',
};

export function quoteString(s: string): string {
  return `'${s.replace(/[\\'\n\t\r\0\b\f]/g, (c) => ESCAPES[c] ?? c)}'`;
}

/** `YYYY-MM-DD hh:mm:ss` in UTC, the DateTime literal both old and new servers accept. */
export function toDateTimeString(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export function literal(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return quoteString(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`SQL literal must be finite, got ${v}`);
    return String(v);
  }
  if (v instanceof Date) return `toDateTime(${quoteString(toDateTimeString(v.getTime()))})`;
  if (Array.isArray(v)) return `[${v.map(literal).join(', ')}]`;
  throw new Error(`unsupported SQL value of type ${typeof v}`);
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A table/column/database name; only plain identifiers pass. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name.slice(0, 80))}`);
  return name;
}

/** Marks pre-rendered SQL (an identifier or fragment) so the `sql` tag inserts it verbatim. */
export class RawSql {
  constructor(readonly text: string) {}
}
export const raw = (text: string) => new RawSql(text);
export const id = (name: string) => new RawSql(ident(name));

/** Tagged template: interpolated values become literals; `id()`/`raw()` pass through. */
export function sql(strings: TemplateStringsArray, ...values: (SqlValue | RawSql)[]): string {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += (v instanceof RawSql ? v.text : literal(v)) + (strings[i + 1] ?? '');
  });
  return out;
}

/** The numeric error code of a ClickHouse error (18.16 only puts it in the message text). */
export function clickhouseErrorCode(e: unknown): number | null {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const c = Number((e).code);
    if (Number.isFinite(c)) return c;
  }
  const m = /Code: (\d+)/.exec(e instanceof Error ? e.message : String(e));
  return m ? Number(m[1]) : null;
}
