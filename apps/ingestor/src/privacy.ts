import { createHmac } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { ClickEvent } from '@app/contracts';

/**
 * Truncates an address so it no longer names one host: IPv4 to its /24 (`203.0.113.77` →
 * `203.0.113.0`), IPv6 to its /48 (`2001:db8:85a3:8d3:…` → `2001:db8:85a3::`). IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`) is treated as IPv4. Returns null for anything that is not an address.
 */
export function truncateIp(ip: string): string | null {
  let s = ip.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  if (isIPv4(s)) return s.slice(0, s.lastIndexOf('.')) + '.0';
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!isIPv6(s)) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped?.[1] !== undefined) return truncateIp(mapped[1]);
  const groups = expandIPv6(s);
  return `${groups.slice(0, 3).map((g) => g.toString(16)).join(':')}::`;
}

/** The eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail counts as two). */
function expandIPv6(s: string): number[] {
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const dbl = s.indexOf('::');
  if (dbl < 0) return parse(s);
  const head = parse(s.slice(0, dbl));
  const tail = parse(s.slice(dbl + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

export interface PrivacyOptions {
  /** Fields pseudonymised with HMAC-SHA256: canonical string fields or `properties.<key>`. */
  pseudonymize: readonly string[];
  /** Fields removed: optional canonical fields or `properties.<key>`. */
  drop: readonly string[];
  /** HMAC key (required when `pseudonymize` is not empty). */
  hmacKey?: string;
}

/** Canonical fields a deny-list may remove or a pseudonymisation may rewrite (required ones excluded). */
const NULLABLE_STRING_FIELDS = new Set<keyof ClickEvent>([
  'user_id', 'anonymous_id', 'session_id', 'item_id', 'category', 'brand', 'currency', 'query', 'target_user_id',
  'device', 'os', 'city', 'region', 'country', 'ip', 'user_agent', 'referrer',
]);

export class PrivacyConfigError extends Error {}

/**
 * Applies the privacy rules to a validated event, in place, before it is published anywhere:
 * deny-listed fields dropped, IP truncated, listed fields replaced by a hex HMAC-SHA256 under the
 * configured key (stable, so joins still work, but not reversible without the key).
 */
export class PrivacyFilter {
  private readonly dropTop: (keyof ClickEvent)[] = [];
  private readonly dropProps: string[] = [];
  private readonly hashTop: (keyof ClickEvent)[] = [];
  private readonly hashProps: string[] = [];
  private readonly key: Buffer | null;

  constructor(opts: PrivacyOptions) {
    for (const [list, top, props] of [
      [opts.drop, this.dropTop, this.dropProps],
      [opts.pseudonymize, this.hashTop, this.hashProps],
    ] as const) {
      for (const f of list) {
        if (f.startsWith('properties.') && f.length > 'properties.'.length) props.push(f.slice('properties.'.length));
        else if (NULLABLE_STRING_FIELDS.has(f as keyof ClickEvent) || (f === 'event_id' && list === opts.pseudonymize)) {
          top.push(f as keyof ClickEvent);
        } else throw new PrivacyConfigError(`cannot drop or pseudonymise field "${f}"`);
      }
    }
    if ((this.hashTop.length > 0 || this.hashProps.length > 0) && !opts.hmacKey) {
      throw new PrivacyConfigError('an HMAC key is required to pseudonymise fields');
    }
    this.key = opts.hmacKey ? Buffer.from(opts.hmacKey, 'utf8') : null;
  }

  /** True when fields are dropped or pseudonymised (beyond IP truncation, which always applies). */
  get hasRules(): boolean {
    return this.dropTop.length + this.dropProps.length + this.hashTop.length + this.hashProps.length > 0;
  }

  /** Returns false when `event.ip` is not an address (the caller rejects the event). */
  apply(event: ClickEvent): boolean {
    const rec = event as unknown as Record<string, unknown>;
    for (const f of this.dropTop) rec[f] = null;
    for (const p of this.dropProps) delete event.properties[p];
    if (event.ip !== null) {
      const t = truncateIp(event.ip);
      if (t === null) return false;
      event.ip = t;
    }
    for (const f of this.hashTop) {
      const v = rec[f];
      if (typeof v === 'string') rec[f] = this.hmac(v);
    }
    for (const p of this.hashProps) {
      const v = event.properties[p];
      if (v !== undefined) event.properties[p] = this.hmac(v);
    }
    return true;
  }

  /** Best-effort scrub of a JSON object bound for the dead-letter topic (it is stored too). */
  scrubJson(item: unknown): unknown {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
    const src = item as Record<string, unknown>;
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(src)) out[k] = src[k];
    // Unknown top-level fields become properties, so property rules apply to them here too.
    for (const f of [...this.dropTop, ...this.dropProps]) delete out[f];
    for (const f of this.hashProps) if (typeof out[f] === 'string') out[f] = this.hmac(out[f]);
    if (typeof out.ip === 'string') out.ip = truncateIp(out.ip) ?? '(invalid ip removed)';
    else if (out.ip !== undefined && out.ip !== null) out.ip = '(invalid ip removed)';
    for (const f of this.hashTop) {
      const v = out[f];
      if (typeof v === 'string' || typeof v === 'number') out[f] = this.hmac(String(v));
    }
    const props = out.properties;
    if (typeof props === 'object' && props !== null && !Array.isArray(props) && (this.dropProps.length > 0 || this.hashProps.length > 0)) {
      const p: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const k of Object.keys(props)) p[k] = (props as Record<string, unknown>)[k];
      for (const k of this.dropProps) delete p[k];
      for (const k of this.hashProps) if (typeof p[k] === 'string') p[k] = this.hmac(p[k]);
      out.properties = p;
    }
    return out;
  }

  private hmac(v: string): string {
    return createHmac('sha256', this.key as Buffer).update(v, 'utf8').digest('hex');
  }
}
