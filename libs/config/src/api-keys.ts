import { timingSafeEqual } from 'node:crypto';

/**
 * API-key check for `x-api-key`. With no keys configured the check is open (development only);
 * services print a warning at start in that case. Comparison is constant-time.
 */
export class ApiKeys {
  private readonly keys: Buffer[];
  constructor(keys: readonly string[]) {
    this.keys = keys.map((k) => Buffer.from(k));
  }

  get open(): boolean {
    return this.keys.length === 0;
  }

  allows(presented: string | string[] | undefined): boolean {
    if (this.open) return true;
    if (typeof presented !== 'string' || presented.length === 0 || presented.length > 512) return false;
    const p = Buffer.from(presented);
    let ok = false;
    for (const k of this.keys) if (k.length === p.length && timingSafeEqual(k, p)) ok = true;
    return ok;
  }
}
