import type { ActivitySignals, CategoryPrice, Features, Score } from '@app/contracts';
import type { FeatureEvent } from './feature-event';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** The longest window: the state never needs events older than as_of − 30 d. */
export const MAX_WINDOW_MS = 30 * DAY_MS;
/** A session ends after 30 minutes without an event (or when session_id changes). */
export const SESSION_GAP_MS = 30 * MINUTE_MS;
/** A view is "without dwell" when the next event of the same session follows within this. */
export const NO_DWELL_MS = 2_000;

export interface FeatureOptions {
  /** Half-life of the category/brand interest scores. */
  halfLifeMs: number;
  /** Length of the category_scores / brand_scores / category_prices lists. */
  topN: number;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = { halfLifeMs: 7 * DAY_MS, topN: 10 };

/**
 * Weight of one event in the decayed interest scores: stronger intent weighs more. Events without
 * a category/brand (search, follow, ...) do not contribute to the score of that key.
 */
export const INTEREST_WEIGHTS: Readonly<Record<string, number>> = {
  view: 1,
  click: 1,
  favorite: 3,
  cart_add: 4,
  purchase: 8,
  review: 2,
  like: 2,
  share: 2,
  comment: 1,
};

/** Everything a `UserFeatures` message carries besides its envelope. */
export interface ComputedFeatures {
  as_of: number;
  /** Ingest time of the newest-ingested event in the 30-day window (freshness). */
  ingested_at: number;
  /** Events in the 30-day window. */
  event_count: number;
  features: Features;
  category_scores: Score[];
  brand_scores: Score[];
  category_prices: CategoryPrice[];
  activity: ActivitySignals;
}

/** Index of the first event with ts > bound (events sorted by ts). */
export function firstAfter(events: readonly FeatureEvent[], bound: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid].ts > bound) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Score a ranks before b: higher score first, ties by key. */
const before = (aKey: string, aScore: number, bKey: string, bScore: number) => aScore > bScore || (aScore === bScore && aKey < bKey);

/** The n best positive scores, best first (ties by key): a selection, no sort of every entry. */
function topScores(m: Map<string, number>, n: number): Score[] {
  const top: Score[] = [];
  for (const [key, score] of m) {
    if (!(score > 0)) continue;
    if (top.length === n && !before(key, score, top[n - 1].key, top[n - 1].score)) continue;
    let i = Math.min(top.length, n - 1);
    while (i > 0 && before(key, score, top[i - 1].key, top[i - 1].score)) i--;
    top.splice(i, 0, { key, score });
    if (top.length > n) top.pop();
  }
  return top;
}

/** FNV-1a step over a string's UTF-16 code units (session signatures, see computeFeatures). */
function fnv(h: number, s: string, prime: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), prime);
  return h;
}

/**
 * Scratch collections reused by every computeFeatures call (it is synchronous and never
 * re-entered): the aggregator computes features for every touched user on every flush, and fresh
 * Sets/Maps per call were a large share of its allocations (sampling allocation profile).
 */
const scratch = {
  items: new Set<string>(),
  categories: new Set<string>(),
  days: new Set<number>(),
  perMinute: new Map<number, number>(),
  catScores: new Map<string, number>(),
  brandScores: new Map<string, number>(),
  sessions24: new Set<number>(),
  sigCount: new Map<number, number>(),
};

/**
 * Computes a user's features at `asOf` from their events, sorted by (ts, event_id) — the ONE
 * definition used by the live aggregator, the restore after a restart and point-in-time queries.
 *
 * Windows are event-time windows relative to `asOf` (CONTRACTS.md): window W holds the events
 * with `asOf − W < ts ≤ asOf`; events outside (asOf − 30 d, asOf] are ignored, so callers may pass
 * older or newer ones. Definitions (all over the 30-day window unless the name says otherwise):
 * - `views_W`, `clicks_W`, `cart_adds_W`, `purchases_W`, `cart_removes_30d`, `favorites_30d`,
 *   `searches_30d`, `shares_30d`, `follows_30d`, `likes_30d`, `comments_30d`, `reviews_30d`:
 *   number of events of that type in window W.
 * - `spend_30d`: Σ price × quantity over purchases that have a price.
 * - `distinct_items_30d` / `distinct_categories_30d`: distinct non-empty item_id / category path.
 * - `active_days_30d`: distinct UTC dates with an event.
 * - `last_event_at`: ts of the newest event in the window (= asOf when the user has one);
 *   `first_event_at`: the user's first event ever (passed in, kept by the caller; 0 when unknown).
 * - Sessions: events in time order; a new session starts at the first event of the window, after a
 *   gap > 30 min, or when both neighbours carry a session_id and it changes. `sessions_30d`,
 *   `avg_events_per_session_30d` = events / sessions; `distinct_sessions_24h` = sessions with at
 *   least one event in the 24-hour window.
 * - `view_to_cart_rate_30d` = cart_adds / views, `cart_to_purchase_rate_30d` = purchases / cart_adds
 *   (0 when the denominator is 0; may exceed 1).
 * - `days_since_last_purchase` = (asOf − newest purchase ts) / 1 day, null when no purchase in 30 d.
 * - `avg_rating_30d`: mean rating of reviews that carry one; null when none.
 * - `hour_histogram_30d`: 24 counts of events by UTC hour of day.
 * - `max_events_per_minute_24h`: most events in one UTC calendar minute in the 24-hour window;
 *   `events_24h`: events in the 24-hour window.
 * - `category_scores` / `brand_scores`: Σ INTEREST_WEIGHTS[type] × 2^(−(asOf − ts) / halfLife) per
 *   category path / brand, top N by score (ties by key), scores > 0 only.
 * - `category_prices`: per category, mean unit price of views with a price and of purchases with a
 *   price; top N categories by (views_with_price + purchases_with_price), ties by key.
 * - `activity`: `identical_session_ratio` = share of 30-day sessions (with ≥ 2 events) whose
 *   (event_type, item_id) sequence equals that of another session; `views_without_dwell_ratio` =
 *   share of 24-hour views followed by the next event of the same session within 2 s;
 *   `reviews_24h`, `cart_adds_1h`, `purchases_1h`, `follows_24h`, `likes_24h`: counts.
 */
export function computeFeatures(
  events: readonly FeatureEvent[],
  asOf: number,
  firstEventAt: number,
  options: FeatureOptions = DEFAULT_FEATURE_OPTIONS,
): ComputedFeatures {
  const start30 = asOf - MAX_WINDOW_MS;
  const start7 = asOf - 7 * DAY_MS;
  const start24 = asOf - DAY_MS;
  const start1 = asOf - HOUR_MS;
  const from = firstAfter(events, start30);
  const to = firstAfter(events, asOf);
  const c = {
    views_1h: 0, views_24h: 0, views_7d: 0, views_30d: 0,
    clicks_24h: 0, clicks_7d: 0, clicks_30d: 0,
    cart_adds_24h: 0, cart_adds_7d: 0, cart_adds_30d: 0, cart_adds_1h: 0,
    cart_removes_30d: 0, favorites_30d: 0,
    purchases_1h: 0, purchases_24h: 0, purchases_7d: 0, purchases_30d: 0,
    searches_30d: 0, shares_30d: 0, follows_30d: 0, follows_24h: 0, likes_30d: 0, likes_24h: 0,
    comments_30d: 0, reviews_30d: 0, reviews_24h: 0, events_24h: 0,
    views_24h_no_dwell: 0,
  };
  let spend = 0;
  let ratingSum = 0;
  let ratingN = 0;
  let lastPurchase: number | null = null;
  let ingestedAt = 0;
  const { items, categories, days, perMinute, catScores, brandScores, sessions24, sigCount } = scratch;
  items.clear();
  categories.clear();
  days.clear();
  perMinute.clear();
  catScores.clear();
  brandScores.clear();
  sessions24.clear();
  sigCount.clear();
  const hist = new Array<number>(24).fill(0);
  let maxPerMinute = 0;
  const prices = new Map<string, { vSum: number; vN: number; pSum: number; pN: number }>();
  // Sessions: a signature per session for identical_session_ratio — the (event_type, item_id)
  // sequence as two 32-bit FNV-1a hashes combined into one 53-bit number (a collision between two
  // different sequences of one user has probability ~2^-53), with the session's length.
  let sessions = 0;
  let sigA = 0;
  let sigB = 0;
  let sigLen = 0;
  const closeSession = () => {
    if (sigLen >= 2) {
      const key = (sigA >>> 0) * 2097152 + ((sigB >>> 0) & 0x1fffff);
      sigCount.set(key, (sigCount.get(key) ?? 0) + 1);
    }
  };
  const ln2 = Math.LN2 / options.halfLifeMs;

  for (let i = from; i < to; i++) {
    const e = events[i];
    const prev = i > from ? events[i - 1] : null;
    if (!prev || e.ts - prev.ts > SESSION_GAP_MS || (e.session !== null && prev.session !== null && e.session !== prev.session)) {
      if (sigLen > 0) closeSession();
      sigA = 0x811c9dc5;
      sigB = 0x2c9277b5;
      sigLen = 0;
      sessions++;
    }
    // Separators keep ("ab","c") and ("a","bc") apart: 1 between events, 2 between type and item.
    sigA = fnv(Math.imul(sigA ^ 1, 0x01000193), e.type, 0x01000193);
    sigA = fnv(Math.imul(sigA ^ 2, 0x01000193), e.item ?? '', 0x01000193);
    sigB = fnv(Math.imul(sigB ^ 1, 0x100001b3), e.type, 0x100001b3);
    sigB = fnv(Math.imul(sigB ^ 2, 0x100001b3), e.item ?? '', 0x100001b3);
    sigLen++;
    const in7 = e.ts > start7;
    const in24 = e.ts > start24;
    const in1 = e.ts > start1;
    if (e.ingested_at > ingestedAt) ingestedAt = e.ingested_at;
    switch (e.type) {
      case 'view':
        c.views_30d++;
        if (in7) c.views_7d++;
        if (in24) {
          c.views_24h++;
          const next = i + 1 < to ? events[i + 1] : null;
          if (next && next.ts - e.ts <= NO_DWELL_MS && !(e.session !== null && next.session !== null && e.session !== next.session)) {
            c.views_24h_no_dwell++;
          }
        }
        if (in1) c.views_1h++;
        break;
      case 'click':
        c.clicks_30d++;
        if (in7) c.clicks_7d++;
        if (in24) c.clicks_24h++;
        break;
      case 'cart_add':
        c.cart_adds_30d++;
        if (in7) c.cart_adds_7d++;
        if (in24) c.cart_adds_24h++;
        if (in1) c.cart_adds_1h++;
        break;
      case 'cart_remove':
        c.cart_removes_30d++;
        break;
      case 'favorite':
        c.favorites_30d++;
        break;
      case 'purchase':
        c.purchases_30d++;
        if (in7) c.purchases_7d++;
        if (in24) c.purchases_24h++;
        if (in1) c.purchases_1h++;
        if (e.price !== null) spend += e.price * e.quantity;
        lastPurchase = e.ts;
        break;
      case 'search':
        c.searches_30d++;
        break;
      case 'share':
        c.shares_30d++;
        break;
      case 'follow':
        c.follows_30d++;
        if (in24) c.follows_24h++;
        break;
      case 'like':
        c.likes_30d++;
        if (in24) c.likes_24h++;
        break;
      case 'comment':
        c.comments_30d++;
        break;
      case 'review':
        c.reviews_30d++;
        if (in24) c.reviews_24h++;
        if (e.rating !== null) {
          ratingSum += e.rating;
          ratingN++;
        }
        break;
      default:
        break;
    }
    if (e.item !== null) items.add(e.item);
    if (e.category !== null) categories.add(e.category);
    days.add(Math.floor(e.ts / DAY_MS));
    hist[Math.floor(e.ts / HOUR_MS) % 24]++; // UTC hour of day (epoch hours are aligned to UTC)
    if (in24) {
      c.events_24h++;
      sessions24.add(sessions);
      const minute = Math.floor(e.ts / MINUTE_MS);
      const n = (perMinute.get(minute) ?? 0) + 1;
      perMinute.set(minute, n);
      if (n > maxPerMinute) maxPerMinute = n;
    }
    const w = INTEREST_WEIGHTS[e.type] ?? 0;
    if (w > 0) {
      const decayed = w * Math.exp(-(asOf - e.ts) * ln2);
      if (e.category !== null) catScores.set(e.category, (catScores.get(e.category) ?? 0) + decayed);
      if (e.brand !== null) brandScores.set(e.brand, (brandScores.get(e.brand) ?? 0) + decayed);
    }
    if (e.category !== null && e.price !== null && (e.type === 'view' || e.type === 'purchase')) {
      let p = prices.get(e.category);
      if (!p) prices.set(e.category, (p = { vSum: 0, vN: 0, pSum: 0, pN: 0 }));
      if (e.type === 'view') {
        p.vSum += e.price;
        p.vN++;
      } else {
        p.pSum += e.price;
        p.pN++;
      }
    }
  }
  if (sigLen > 0) closeSession();
  // Single-event sessions repeat trivially (one view of the home page); only compare real sequences.
  let identical = 0;
  for (const n of sigCount.values()) if (n > 1) identical += n;
  const n30 = to - from;
  const last = n30 > 0 ? events[to - 1].ts : 0;

  const features: Features = {
    views_1h: c.views_1h,
    views_24h: c.views_24h,
    views_7d: c.views_7d,
    views_30d: c.views_30d,
    clicks_24h: c.clicks_24h,
    clicks_7d: c.clicks_7d,
    clicks_30d: c.clicks_30d,
    cart_adds_24h: c.cart_adds_24h,
    cart_adds_7d: c.cart_adds_7d,
    cart_adds_30d: c.cart_adds_30d,
    cart_removes_30d: c.cart_removes_30d,
    favorites_30d: c.favorites_30d,
    purchases_24h: c.purchases_24h,
    purchases_7d: c.purchases_7d,
    purchases_30d: c.purchases_30d,
    spend_30d: spend,
    distinct_items_30d: items.size,
    distinct_categories_30d: categories.size,
    active_days_30d: days.size,
    last_event_at: last,
    first_event_at: Number.isFinite(firstEventAt) ? firstEventAt : 0,
    sessions_30d: sessions,
    avg_events_per_session_30d: sessions > 0 ? n30 / sessions : 0,
    view_to_cart_rate_30d: c.views_30d > 0 ? c.cart_adds_30d / c.views_30d : 0,
    cart_to_purchase_rate_30d: c.cart_adds_30d > 0 ? c.purchases_30d / c.cart_adds_30d : 0,
    days_since_last_purchase: lastPurchase !== null ? (asOf - lastPurchase) / DAY_MS : null,
    searches_30d: c.searches_30d,
    shares_30d: c.shares_30d,
    follows_30d: c.follows_30d,
    likes_30d: c.likes_30d,
    comments_30d: c.comments_30d,
    reviews_30d: c.reviews_30d,
    avg_rating_30d: ratingN > 0 ? ratingSum / ratingN : null,
    hour_histogram_30d: hist,
    max_events_per_minute_24h: maxPerMinute,
    events_24h: c.events_24h,
    distinct_sessions_24h: sessions24.size,
  };
  const category_prices: CategoryPrice[] = [...prices.entries()]
    .sort((a, b) => b[1].vN + b[1].pN - (a[1].vN + a[1].pN) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, options.topN)
    .map(([category, p]) => ({
      category,
      avg_view_price: p.vN > 0 ? p.vSum / p.vN : null,
      avg_purchase_price: p.pN > 0 ? p.pSum / p.pN : null,
      views_with_price: p.vN,
      purchases_with_price: p.pN,
    }));
  return {
    as_of: asOf,
    ingested_at: ingestedAt,
    event_count: n30,
    features,
    category_scores: topScores(catScores, options.topN),
    brand_scores: topScores(brandScores, options.topN),
    category_prices,
    activity: {
      identical_session_ratio: sessions > 0 ? identical / sessions : 0,
      views_without_dwell_ratio: c.views_24h > 0 ? c.views_24h_no_dwell / c.views_24h : 0,
      reviews_24h: c.reviews_24h,
      cart_adds_1h: c.cart_adds_1h,
      purchases_1h: c.purchases_1h,
      follows_24h: c.follows_24h,
      likes_24h: c.likes_24h,
    },
  };
}
