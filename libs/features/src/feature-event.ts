import type { ClickEvent } from '@app/contracts';

/**
 * The part of an event the features need, kept per user in memory (compact: no device, geo,
 * properties). Built from a Kafka `ClickEvent` (live path) or from an `events` row (restore and
 * point-in-time) so both paths feed the same state machine.
 */
export interface FeatureEvent {
  event_id: string;
  /** Event time, epoch ms. */
  ts: number;
  type: string;
  item: string | null;
  category: string | null;
  brand: string | null;
  /** Unit price. */
  price: number | null;
  quantity: number;
  rating: number | null;
  session: string | null;
  /** Ingest time, epoch ms (freshness). */
  ingested_at: number;
}

/**
 * The FeatureEvent the state keeps (toFeatureEvent builds it): its times held as seconds and
 * milliseconds, which are small integers. V8 keeps a number field that is not a small integer —
 * an epoch in ms is not — as a separate heap object, so every event held two more objects for
 * garbage collection to visit; the hot states hold millions of events.
 */
export class CompactFeatureEvent implements FeatureEvent {
  private readonly tsS: number;
  private readonly tsMs: number;
  private readonly ingS: number;
  private readonly ingMs: number;

  constructor(
    readonly event_id: string,
    ts: number,
    readonly type: string,
    readonly item: string | null,
    readonly category: string | null,
    readonly brand: string | null,
    readonly price: number | null,
    readonly quantity: number,
    readonly rating: number | null,
    /** Writable: the state shares one string between the events of a session (UserState.apply). */
    public session: string | null,
    ingestedAt: number,
  ) {
    // Exact for any ms value (the parts are recombined by one multiply-add).
    this.tsS = Math.floor(ts / 1000);
    this.tsMs = ts - this.tsS * 1000;
    this.ingS = Math.floor(ingestedAt / 1000);
    this.ingMs = ingestedAt - this.ingS * 1000;
  }

  get ts(): number {
    return this.tsS * 1000 + this.tsMs;
  }

  get ingested_at(): number {
    return this.ingS * 1000 + this.ingMs;
  }
}

/** Event times ClickHouse `DateTime` can hold (1970 .. 2105); anything else is a poison record. */
const MIN_TS = 0;
const MAX_TS = 4_102_444_800_000; // 2100-01-01

/** Thrown for an event the feature code cannot use; the consumer dead-letters it. */
export class InvalidFeatureEvent extends Error {
  constructor(readonly reasonCode: string, message: string) {
    super(message);
    this.name = 'InvalidFeatureEvent';
  }
}

const blank = (s: string | null | undefined): string | null => (s === null || s === undefined || s === '' ? null : s);

/** The fields of a ClickEvent the features read. */
export type FeatureSource = Pick<
  ClickEvent,
  'event_id' | 'event_type' | 'ts' | 'item_id' | 'category' | 'brand' | 'price' | 'quantity' | 'rating' | 'session_id' | 'ingested_at'
>;

/** Validates and projects one event; throws InvalidFeatureEvent for values the features cannot use. */
export function toFeatureEvent(e: FeatureSource): FeatureEvent {
  if (!Number.isFinite(e.ts) || e.ts < MIN_TS || e.ts >= MAX_TS) throw new InvalidFeatureEvent('ts_out_of_range', `event time ${e.ts} out of range`);
  if (e.price !== null && e.price !== undefined && !(Number.isFinite(e.price) && e.price >= 0)) {
    throw new InvalidFeatureEvent('bad_price', `price ${e.price} is not a finite number >= 0`);
  }
  const quantity = e.quantity ?? 1;
  if (!Number.isInteger(quantity) || quantity < 1) throw new InvalidFeatureEvent('bad_quantity', `quantity ${quantity} is not an integer >= 1`);
  if (e.event_id === '') throw new InvalidFeatureEvent('no_event_id', 'empty event_id');
  const ingested = e.ingested_at ?? e.ts;
  return new CompactFeatureEvent(
    e.event_id,
    e.ts,
    e.event_type,
    blank(e.item_id),
    blank(e.category),
    blank(e.brand),
    e.price ?? null,
    quantity,
    e.rating ?? null,
    blank(e.session_id),
    Number.isFinite(ingested) ? ingested : e.ts,
  );
}

/** Total order used everywhere (live state, restore, point-in-time): event time, then event_id. */
export function compareEvents(a: FeatureEvent, b: FeatureEvent): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  return a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;
}
