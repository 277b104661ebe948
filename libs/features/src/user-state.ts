import type { UserFeatures } from '@app/contracts';
import { compareEvents, FeatureEvent } from './feature-event';
import { computeFeatures, DAY_MS, DEFAULT_FEATURE_OPTIONS, FeatureOptions, FeatureResult, MAX_WINDOW_MS } from './feature-definitions';

export const DEFAULT_ALLOWED_LATENESS_MS = DAY_MS;

/** What applying one event did. */
export type ApplyOutcome = 'applied' | 'duplicate' | 'too_late';

/**
 * One user's hot state: their events in (asOf − 30 d, asOf] as compact records sorted by
 * (ts, event_id) — exact for every window, whatever the arrival order — plus the time of their
 * first event ever. `asOf` is the newest applied event time.
 *
 * - Idempotence: an event whose (ts, event_id) is already held is a duplicate (redelivery/replay).
 * - Lateness: an event with ts ≤ asOf − allowedLateness is "too late": not applied (stored for
 *   analytics only). Anything later is inserted in order, so the windows equal in-order arrival.
 *   Since allowedLateness < 30 d, dropping records at or before asOf − 30 d loses nothing a window
 *   or a duplicate check can still need.
 *
 * Memory: about 150–250 bytes per record (object + strings shared with nothing) plus ~200 bytes
 * per user; the bench reports the measured figure.
 */
export class UserState {
  events: FeatureEvent[] = [];
  firstEventAt = Number.POSITIVE_INFINITY;
  /** In-flight batches holding this state; pinned states are never evicted. */
  pins = 0;

  constructor(
    readonly userKey: string,
    readonly partition: number,
  ) {}

  get asOf(): number {
    return this.events.length > 0 ? this.events[this.events.length - 1].ts : 0;
  }

  get size(): number {
    return this.events.length;
  }

  /** Seeds the state from stored events (restore); `events` need not be sorted. */
  load(events: FeatureEvent[], firstEventAt: number): void {
    const sorted = [...events].sort(compareEvents);
    const unique: FeatureEvent[] = [];
    for (const e of sorted) if (unique.length === 0 || compareEvents(unique[unique.length - 1], e) !== 0) unique.push(e);
    this.events = unique;
    this.firstEventAt = Math.min(this.firstEventAt, firstEventAt);
    this.prune();
  }

  apply(e: FeatureEvent, allowedLatenessMs = DEFAULT_ALLOWED_LATENESS_MS): ApplyOutcome {
    const evs = this.events;
    // Binary search for the insertion point by (ts, event_id).
    let lo = 0;
    let hi = evs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEvents(evs[mid], e) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < evs.length && compareEvents(evs[lo], e) === 0) return 'duplicate';
    if (evs.length > 0 && e.ts <= this.asOf - allowedLatenessMs) return 'too_late';
    // The events of a session carry equal session ids, decoded one string per event: they share
    // their neighbour's instead (one string per session held, not one per event).
    const neighbour = lo > 0 ? evs[lo - 1] : lo < evs.length ? evs[lo] : null;
    if (neighbour !== null && e.session !== null && neighbour.session === e.session) e.session = neighbour.session;
    if (lo === evs.length) evs.push(e);
    else evs.splice(lo, 0, e);
    if (e.ts < this.firstEventAt) this.firstEventAt = e.ts;
    if (lo === evs.length - 1) this.prune();
    return 'applied';
  }

  /** Drops records no window can need any more: ts ≤ asOf − 30 d. */
  prune(): void {
    const cutoff = this.asOf - MAX_WINDOW_MS;
    let k = 0;
    while (k < this.events.length && this.events[k].ts <= cutoff) k++;
    if (k > 0) this.events.splice(0, k);
  }

  /** With `into`, the message is `into`'s, overwritten by the next call given it (encode it first). */
  toMessage(now: number, options: FeatureOptions = DEFAULT_FEATURE_OPTIONS, into: FeatureResult | null = null): UserFeatures {
    return toUserFeatures(this.userKey, this.events, this.asOf, this.firstEventAt, now, options, into);
  }
}

/** Builds the `UserFeatures` message of a user at `asOf` from their sorted events. */
export function toUserFeatures(
  userKey: string,
  events: readonly FeatureEvent[],
  asOf: number,
  firstEventAt: number,
  now: number,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
  into: FeatureResult | null = null,
): UserFeatures {
  const f = computeFeatures(events, asOf, firstEventAt, options, into);
  // Every field is assigned below, in the schema's order (the JSON of a snapshot keeps it).
  const m = into?.message ?? ({} as UserFeatures);
  m.user_id = userKey;
  m.as_of = f.as_of;
  m.ingested_at = f.ingested_at > 0 ? f.ingested_at : now;
  m.emitted_at = now;
  m.event_count = f.event_count;
  m.features = f.features;
  m.category_scores = f.category_scores;
  m.brand_scores = f.brand_scores;
  m.category_prices = f.category_prices;
  m.activity = f.activity;
  return m;
}
