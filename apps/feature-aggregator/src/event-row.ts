import type { ClickEvent } from '@app/contracts';

/**
 * The `events` table row of one validated event (migrations/clickhouse/0001_events). `late` = 1
 * for events that arrived after the allowed lateness (stored, not in the windows); `ver` = 1 − late
 * is the ReplacingMergeTree version, so an in-time copy always wins over a late re-delivery.
 */
/** DateTime as unix seconds: JSONEachRow accepts it on old and new servers, and it is much cheaper than formatting. */
const seconds = (ms: number) => Math.floor(ms / 1000);

export function toEventRow(e: ClickEvent, userKey: string, partition: number, offset: string, late: boolean) {
  const props = Object.entries(e.properties ?? {});
  const ingested = e.ingested_at ?? e.ts;
  return {
    event_id: e.event_id,
    user_key: userKey,
    user_id: e.user_id ?? '',
    anonymous_id: e.anonymous_id ?? '',
    session_id: e.session_id ?? '',
    event_type: e.event_type,
    ts: seconds(e.ts),
    ts_ms: e.ts % 1000,
    item_id: e.item_id ?? '',
    category: e.category ?? '',
    brand: e.brand ?? '',
    price: e.price,
    currency: e.currency ?? '',
    quantity: e.quantity ?? 1,
    rating: e.rating,
    query: e.query ?? '',
    target_user_id: e.target_user_id ?? '',
    device: e.device ?? '',
    os: e.os ?? '',
    city: e.city ?? '',
    region: e.region ?? '',
    country: e.country ?? '',
    ip: e.ip ?? '',
    user_agent: e.user_agent ?? '',
    referrer: e.referrer ?? '',
    prop_keys: props.map(([k]) => k),
    prop_values: props.map(([, v]) => v),
    source: e.source ?? '',
    backfill: e.backfill ? 1 : 0,
    late: late ? 1 : 0,
    ver: late ? 0 : 1,
    ingested_at: seconds(ingested),
    ingested_ms: ingested % 1000,
    kafka_partition: partition,
    kafka_offset: offset,
    stored_at: seconds(Date.now()),
  };
}
export type EventRow = ReturnType<typeof toEventRow>;
