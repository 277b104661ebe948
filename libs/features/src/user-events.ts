import type { ClickEvent, Features, UserFeatures } from '@app/contracts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const SESSION_GAP = 30 * MIN;

/** The part of an event the features need (kept per user in memory). */
export interface FeatureEvent {
  event_id: string;
  ts: number;
  type: string;
  item: string | null;
  category: string | null;
  brand: string | null;
  price: number | null;
  quantity: number;
  rating: number | null;
  session: string | null;
  ingested_at: number;
}

export const toFeatureEvent = (e: ClickEvent): FeatureEvent => ({
  event_id: e.event_id,
  ts: e.ts,
  type: e.event_type,
  item: e.item_id,
  category: e.category,
  brand: e.brand,
  price: e.price,
  quantity: e.quantity ?? 1,
  rating: e.rating,
  session: e.session_id,
  ingested_at: e.ingested_at ?? e.ts,
});

/**
 * One user's recent events (30 days before the newest, plus allowed lateness), deduplicated by
 * event_id and kept in event-time order, from which every window feature is computed exactly as
 * CONTRACTS.md defines it: window W at as_of holds events with as_of − W < ts ≤ as_of.
 */
export class UserEvents {
  private events: FeatureEvent[] = [];
  private readonly ids = new Set<string>();
  firstEventAt = Number.POSITIVE_INFINITY;

  constructor(readonly userId: string) {}

  get size(): number {
    return this.events.length;
  }

  get asOf(): number {
    return this.events.length > 0 ? this.events[this.events.length - 1]!.ts : 0;
  }

  /** Adds an event; false when its event_id is already counted (replay/redelivery). */
  add(e: FeatureEvent): boolean {
    if (this.ids.has(e.event_id)) return false;
    this.ids.add(e.event_id);
    this.firstEventAt = Math.min(this.firstEventAt, e.ts);
    let i = this.events.length;
    while (i > 0 && this.events[i - 1]!.ts > e.ts) i--;
    this.events.splice(i, 0, e);
    return true;
  }

  /** Drops events older than 30 days + lateness before the newest. */
  prune(latenessMs = DAY): void {
    const cutoff = this.asOf - 30 * DAY - latenessMs;
    let k = 0;
    while (k < this.events.length && this.events[k]!.ts <= cutoff) {
      this.ids.delete(this.events[k]!.event_id);
      k++;
    }
    if (k > 0) this.events.splice(0, k);
  }

  features(asOf = this.asOf): Features {
    const inW = (w: number) => (e: FeatureEvent) => e.ts > asOf - w && e.ts <= asOf;
    const w30 = this.events.filter(inW(30 * DAY));
    const count = (evs: FeatureEvent[], type: string) => evs.reduce((n, e) => n + (e.type === type ? 1 : 0), 0);
    const w24 = w30.filter(inW(DAY));
    const w7 = w30.filter(inW(7 * DAY));
    const w1h = w24.filter(inW(HOUR));
    const purchases30 = w30.filter((e) => e.type === 'purchase');
    const spend = purchases30.reduce((s, e) => s + (e.price !== null ? e.price * e.quantity : 0), 0);
    const views30 = count(w30, 'view');
    const carts30 = count(w30, 'cart_add');
    const reviews = w30.filter((e) => e.type === 'review' && e.rating !== null);
    const lastPurchase = purchases30.length > 0 ? purchases30[purchases30.length - 1]!.ts : null;
    const hist = new Array<number>(24).fill(0);
    for (const e of w30) hist[new Date(e.ts).getUTCHours()]!++;
    const sessions = countSessions(w30);
    const perMinute = new Map<number, number>();
    for (const e of w24) perMinute.set(Math.floor(e.ts / MIN), (perMinute.get(Math.floor(e.ts / MIN)) ?? 0) + 1);
    const last = w30.length > 0 ? w30[w30.length - 1]!.ts : 0;
    return {
      views_1h: count(w1h, 'view'),
      views_24h: count(w24, 'view'),
      views_7d: count(w7, 'view'),
      views_30d: views30,
      clicks_24h: count(w24, 'click'),
      clicks_7d: count(w7, 'click'),
      clicks_30d: count(w30, 'click'),
      cart_adds_24h: count(w24, 'cart_add'),
      cart_adds_7d: count(w7, 'cart_add'),
      cart_adds_30d: carts30,
      cart_removes_30d: count(w30, 'cart_remove'),
      favorites_30d: count(w30, 'favorite'),
      purchases_24h: count(w24, 'purchase'),
      purchases_7d: count(w7, 'purchase'),
      purchases_30d: purchases30.length,
      spend_30d: spend,
      distinct_items_30d: new Set(w30.map((e) => e.item).filter((x) => x !== null)).size,
      distinct_categories_30d: new Set(w30.map((e) => e.category).filter((x) => x !== null)).size,
      active_days_30d: new Set(w30.map((e) => Math.floor(e.ts / DAY))).size,
      last_event_at: last,
      first_event_at: Number.isFinite(this.firstEventAt) ? this.firstEventAt : 0,
      sessions_30d: sessions,
      avg_events_per_session_30d: sessions > 0 ? w30.length / sessions : 0,
      view_to_cart_rate_30d: views30 > 0 ? carts30 / views30 : 0,
      cart_to_purchase_rate_30d: carts30 > 0 ? purchases30.length / carts30 : 0,
      days_since_last_purchase: lastPurchase !== null ? (asOf - lastPurchase) / DAY : null,
      searches_30d: count(w30, 'search'),
      shares_30d: count(w30, 'share'),
      follows_30d: count(w30, 'follow'),
      likes_30d: count(w30, 'like'),
      comments_30d: count(w30, 'comment'),
      reviews_30d: count(w30, 'review'),
      avg_rating_30d: reviews.length > 0 ? reviews.reduce((s, e) => s + (e.rating ?? 0), 0) / reviews.length : null,
      hour_histogram_30d: hist,
      max_events_per_minute_24h: Math.max(0, ...perMinute.values()),
      events_24h: w24.length,
      distinct_sessions_24h: countSessions(w24),
    };
  }

  toMessage(now = Date.now()): UserFeatures {
    const newest = this.events[this.events.length - 1];
    return {
      user_id: this.userId,
      as_of: this.asOf,
      ingested_at: newest?.ingested_at ?? now,
      emitted_at: now,
      event_count: this.events.length,
      features: this.features(),
      category_scores: [],
      brand_scores: [],
      category_prices: [],
      activity: {
        identical_session_ratio: 0,
        views_without_dwell_ratio: 0,
        reviews_24h: 0,
        cart_adds_1h: 0,
        purchases_1h: 0,
        follows_24h: 0,
        likes_24h: 0,
      },
    };
  }
}

/** Sessions: a new one starts after a 30-minute gap or when session_id changes. */
function countSessions(evs: FeatureEvent[]): number {
  let n = 0;
  let prev: FeatureEvent | null = null;
  for (const e of evs) {
    if (!prev || e.ts - prev.ts > SESSION_GAP || (e.session !== null && prev.session !== null && e.session !== prev.session)) n++;
    prev = e;
  }
  return n;
}
