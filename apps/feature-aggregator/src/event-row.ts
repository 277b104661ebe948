import type { RowBinaryEncoder } from '@app/clickhouse';
import type { ClickEvent } from '@app/contracts';

/**
 * The `events` table row of one validated event (migrations/clickhouse/0001_events), written as
 * RowBinary in the order of EVENT_COLUMNS. `late` = 1 for events that arrived after the allowed
 * lateness (stored, not in the windows); `ver` = 1 − late is the ReplacingMergeTree version, so an
 * in-time copy always wins over a late re-delivery. Absent optional strings are stored as '',
 * absent quantity as 1; times as DateTime seconds plus the milliseconds beside them.
 */
export const EVENT_COLUMNS = [
  'event_id', 'user_key', 'user_id', 'anonymous_id', 'session_id', 'event_type', 'ts', 'ts_ms', 'item_id', 'category',
  'brand', 'price', 'currency', 'quantity', 'rating', 'query', 'target_user_id', 'device', 'os', 'city', 'region',
  'country', 'ip', 'user_agent', 'referrer', 'prop_keys', 'prop_values', 'source', 'backfill', 'late', 'ver',
  'ingested_at', 'ingested_ms', 'kafka_partition', 'kafka_offset', 'stored_at',
] as const;

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * Appends one row with late = 0 and returns the byte offset of its `late` column (`ver` follows):
 * `markLate` turns it into a late row once the state has decided. `storedAt` in epoch ms. Throws
 * (the row half-written: truncate it) on values the columns cannot hold.
 */
export function encodeEventRow(
  out: RowBinaryEncoder,
  e: ClickEvent,
  userKey: string,
  partition: number,
  offset: string,
  storedAt: number,
): number {
  const ingested = e.ingested_at ?? e.ts;
  out.string(e.event_id);
  out.string(userKey);
  out.string(e.user_id ?? '');
  out.string(e.anonymous_id ?? '');
  out.string(e.session_id ?? '');
  out.string(e.event_type);
  out.dateTime(seconds(e.ts));
  out.uint16(e.ts % 1000);
  out.string(e.item_id ?? '');
  out.string(e.category ?? '');
  out.string(e.brand ?? '');
  out.nullableFloat64(e.price);
  out.string(e.currency ?? '');
  out.uint32(e.quantity ?? 1);
  out.nullableUInt8(e.rating);
  out.string(e.query ?? '');
  out.string(e.target_user_id ?? '');
  out.string(e.device ?? '');
  out.string(e.os ?? '');
  out.string(e.city ?? '');
  out.string(e.region ?? '');
  out.string(e.country ?? '');
  out.string(e.ip ?? '');
  out.string(e.user_agent ?? '');
  out.string(e.referrer ?? '');
  const props = e.properties ?? {};
  const keys = Object.keys(props);
  out.stringArray(keys);
  out.arrayLength(keys.length);
  for (const k of keys) out.string(props[k]);
  out.string(e.source ?? '');
  out.uint8(e.backfill ? 1 : 0);
  const lateAt = out.byteLength;
  out.uint8(0); // late
  out.uint8(1); // ver
  out.dateTime(seconds(ingested));
  out.uint16(ingested % 1000);
  out.uint16(partition);
  out.uint64(offset);
  out.dateTime(seconds(storedAt));
  return lateAt;
}

/** Makes the row whose `late` byte is at `lateAt` a late one: late = 1, ver = 0. */
export function markLate(out: RowBinaryEncoder, lateAt: number): void {
  out.setUInt8(lateAt, 1);
  out.setUInt8(lateAt + 1, 0);
}
