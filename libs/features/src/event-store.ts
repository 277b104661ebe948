import { ClickHouseStore, literal, raw, RawSql, sql } from '@app/clickhouse';
import type { UserFeatures } from '@app/contracts';
import { compareEvents, CompactFeatureEvent, FeatureEvent } from './feature-event';
import { DEFAULT_FEATURE_OPTIONS, FeatureOptions, MAX_WINDOW_MS } from './feature-definitions';
import { toUserFeatures } from './user-state';

/**
 * Reading a user's feature events back from the `events` table — shared by the restore after a
 * restart/rebalance and by point-in-time queries, so both run the live state machine's inputs.
 *
 * Only rows with late = 0 count (late = 1 rows arrived after the allowed lateness and never entered
 * the live windows). No FINAL: the replacing key is (user_key, ts, event_id), the late = 0 copy of
 * a row always wins (version = 1 − late), so "late = 0 rows, deduplicated by (ts, event_id) here"
 * is exactly what `FINAL ... WHERE late = 0` returns, at a fraction of the cost.
 */
/** `(a, b, c)` for `x IN ...` (a literal array would be an Array, which IN rejects). */
export const inList = (values: readonly (string | number)[]): RawSql => raw(`(${values.map((v) => literal(v)).join(', ')})`);

const TS_MS = raw('toUInt64(ts) * 1000 + ts_ms');
const FEATURE_COLUMNS = raw(
  'user_key, event_id, toUInt64(ts) * 1000 + ts_ms AS t, event_type, item_id, category, brand, price, quantity, rating, session_id, toUInt64(ingested_at) * 1000 + ingested_ms AS ing',
);

interface FeatureRow {
  user_key: string;
  event_id: string;
  t: string | number;
  event_type: string;
  item_id: string;
  category: string;
  brand: string;
  price: number | null;
  quantity: number;
  rating: number | null;
  session_id: string;
  ing: string | number;
}

const orNull = (s: string) => (s === '' ? null : s);

function rowToFeatureEvent(r: FeatureRow): FeatureEvent {
  return new CompactFeatureEvent(
    r.event_id,
    Number(r.t),
    r.event_type,
    orNull(r.item_id),
    orNull(r.category),
    orNull(r.brand),
    r.price,
    Number(r.quantity),
    r.rating,
    orNull(r.session_id),
    Number(r.ing),
  );
}

/** Sorted by (ts, event_id), one record per (ts, event_id). */
export function sortUnique(events: FeatureEvent[]): FeatureEvent[] {
  events.sort(compareEvents);
  const out: FeatureEvent[] = [];
  for (const e of events) if (out.length === 0 || compareEvents(out[out.length - 1], e) !== 0) out.push(e);
  return out;
}

export interface StoredUser {
  /** Events in (newest − 30 d, newest], sorted and unique. */
  events: FeatureEvent[];
  firstEventAt: number;
}

/** Loads the stored state of several users at once (the restore of a lazily re-seen user). */
export async function loadStoredUsers(store: ClickHouseStore, userKeys: readonly string[]): Promise<Map<string, StoredUser>> {
  const out = new Map<string, StoredUser>();
  if (userKeys.length === 0) return out;
  const bounds = await store.query<{ user_key: string; lo: string; hi: string }>(
    sql`SELECT user_key, min(${TS_MS}) AS lo, max(${TS_MS}) AS hi FROM events WHERE user_key IN ${inList(userKeys)} AND late = 0 GROUP BY user_key`,
  );
  if (bounds.length === 0) return out;
  let cutoff = Number.POSITIVE_INFINITY;
  const limits = new Map<string, number>();
  for (const b of bounds) {
    const from = Number(b.hi) - MAX_WINDOW_MS;
    limits.set(b.user_key, from);
    cutoff = Math.min(cutoff, from);
    out.set(b.user_key, { events: [], firstEventAt: Number(b.lo) });
  }
  const rows = await store.query<FeatureRow>(
    sql`SELECT ${FEATURE_COLUMNS} FROM events WHERE user_key IN ${inList(bounds.map((b) => b.user_key))} AND late = 0 AND ts >= toDateTime(${Math.max(0, Math.floor(cutoff / 1000))})`,
  );
  for (const r of rows) {
    const e = rowToFeatureEvent(r);
    if (e.ts > limits.get(r.user_key)!) out.get(r.user_key)!.events.push(e);
  }
  for (const u of out.values()) u.events = sortUnique(u.events);
  return out;
}

/**
 * Point-in-time features: what the live aggregator emits for `userKey` once it has seen every
 * stored event up to `asOfMs` — as_of is the user's newest (non-late) event at or before `asOfMs`,
 * and the windows are computed by the same `computeFeatures` from the same records. Null when the
 * user has no event at or before `asOfMs`.
 */
export async function featuresAsOf(
  store: ClickHouseStore,
  userKey: string,
  asOfMs: number,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
  now = Date.now(),
): Promise<UserFeatures | null> {
  const [b] = await store.query<{ n: string; lo: string; hi: string }>(
    sql`SELECT count() AS n, min(${TS_MS}) AS lo, max(${TS_MS}) AS hi FROM events WHERE user_key = ${userKey} AND late = 0 AND ${TS_MS} <= ${Math.floor(asOfMs)}`,
  );
  if (!b || Number(b.n) === 0) return null;
  const asOf = Number(b.hi);
  const rows = await store.query<FeatureRow>(
    sql`SELECT ${FEATURE_COLUMNS} FROM events WHERE user_key = ${userKey} AND late = 0 AND ts >= toDateTime(${Math.max(0, Math.floor((asOf - MAX_WINDOW_MS) / 1000))}) AND ts <= toDateTime(${Math.floor(asOf / 1000)})`,
  );
  const events = sortUnique(rows.map(rowToFeatureEvent).filter((e) => e.ts > asOf - MAX_WINDOW_MS && e.ts <= asOf));
  return toUserFeatures(userKey, events, asOf, Number(b.lo), now, options);
}
