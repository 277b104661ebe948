import type { ActivitySignals, CategoryPrice, Features, Score, UserFeatures } from '@app/contracts';
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

/** INTEREST_WEIGHTS as a Map (a keyed read of the object with varying keys was a megamorphic load). */
const WEIGHT_OF_TYPE: ReadonlyMap<string, number> = new Map(Object.entries(INTEREST_WEIGHTS));

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

/** Indices chosen by the top-N selections (reused; the selections run one after another). */
let order = new Int32Array(16);

/**
 * The indices of the n best positive `rank`s among the first `size` (higher first, ties by key)
 * into `order`, by selection (no sort); returns how many.
 */
function selectTop(keys: readonly string[], rank: ArrayLike<number>, size: number, n: number): number {
  if (order.length < n) order = new Int32Array(n);
  let m = 0;
  for (let k = 0; k < size; k++) {
    if (!(rank[k] > 0)) continue;
    if (m === n && !before(keys[k], rank[k], keys[order[n - 1]], rank[order[n - 1]])) continue;
    let i = m < n ? m++ : n - 1;
    while (i > 0 && before(keys[k], rank[k], keys[order[i - 1]], rank[order[i - 1]])) {
      order[i] = order[i - 1];
      i--;
    }
    order[i] = k;
  }
  return m;
}

/** The n best positive scores of `keys[i]` / `scores[i]` (i < size), best first (ties by key): a selection, no sort. */
function topScores(keys: readonly string[], scores: readonly number[], size: number, n: number, pool: Pool<Score> | null): Score[] {
  const m = selectTop(keys, scores, size, n);
  const top = pool !== null ? pool.list : [];
  top.length = m;
  for (let i = 0; i < m; i++) {
    const k = order[i];
    let entry: Score;
    if (pool === null) entry = { key: keys[k], score: scores[k] };
    else {
      entry = pool.entries[i] ??= { key: '', score: 0 };
      entry.key = keys[k];
      entry.score = scores[k];
    }
    top[i] = entry;
  }
  return top;
}

/** Distinct keys of one computation are numbered through a linear scan while there are at most this many. */
const FEW_KEYS = 16;

/**
 * Dense indices 0, 1, ... for the distinct keys seen since `reset`: a linear scan while there are
 * few (most users have a handful of categories), a Map beyond. Reused by every computeFeatures
 * call without clearing collections: `Set#clear`/`Map#clear` allocate a fresh table, and eight of
 * them per call were a third of computeFeatures' time (CPU profile of bench:aggregate).
 */
class KeyIndex<K> {
  readonly keys: K[] = [];
  size = 0;
  private readonly map = new Map<K, number>();
  private mapped = false;

  reset(): void {
    this.size = 0;
    if (this.mapped) {
      this.map.clear();
      this.mapped = false;
    }
  }

  /** The key's index; a new key gets index `size` (then size grows by one). */
  indexOf(key: K): number {
    if (!this.mapped) {
      for (let i = 0; i < this.size; i++) if (this.keys[i] === key) return i;
      if (this.size < FEW_KEYS) {
        this.keys[this.size] = key;
        return this.size++;
      }
      for (let i = 0; i < this.size; i++) this.map.set(this.keys[i], i);
      this.mapped = true;
    }
    let i = this.map.get(key);
    if (i === undefined) {
      i = this.size++;
      this.keys[i] = key;
      this.map.set(key, i);
    }
    return i;
  }
}

/** FNV-1a step over a string's UTF-16 code units (session signatures, see computeFeatures). */
function fnv(h: number, s: string, prime: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), prime);
  return h;
}

/**
 * Scratch state reused by every computeFeatures call (it is synchronous and never re-entered):
 * the aggregator computes features for every touched user on every flush.
 */
const scratch = {
  items: new KeyIndex<string>(),
  categories: new KeyIndex<string>(),
  catScores: new KeyIndex<string>(),
  catScore: [] as number[],
  brandScores: new KeyIndex<string>(),
  brandScore: [] as number[],
  prices: new KeyIndex<string>(),
  /** Per category of `prices`: views with a price (sum, count), purchases with a price (sum, count). */
  vSum: [] as number[],
  vN: [] as number[],
  pSum: [] as number[],
  pN: [] as number[],
  signatures: new KeyIndex<number>(),
  sigCount: [] as number[],
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
  into: FeatureResult | null = null,
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
  const { items, categories, catScores, catScore, brandScores, brandScore, prices, vSum, vN, pSum, pN, signatures, sigCount } = scratch;
  items.reset();
  categories.reset();
  catScores.reset();
  brandScores.reset();
  prices.reset();
  signatures.reset();
  // prettier-ignore
  const hist = into !== null ? into.result.features.hour_histogram_30d.fill(0) : [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  // Events are in time order, so days, minutes and session numbers only grow: distinct days,
  // the busiest minute and the distinct 24-hour sessions are counted at their changes.
  let activeDays = 0;
  let lastDay = Number.NaN;
  let maxPerMinute = 0;
  let minute = Number.NaN;
  let inMinute = 0;
  let sessions24 = 0;
  let lastSession24 = -1;
  // Sessions: a signature per session for identical_session_ratio — the (event_type, item_id)
  // sequence as two 32-bit FNV-1a hashes combined into one 53-bit number (a collision between two
  // different sequences of one user has probability ~2^-53), with the session's length.
  let sessions = 0;
  let sigA = 0;
  let sigB = 0;
  let sigLen = 0;
  const ln2 = Math.LN2 / options.halfLifeMs;

  for (let i = from; i < to; i++) {
    const e = events[i];
    const prev = i > from ? events[i - 1] : null;
    if (!prev || e.ts - prev.ts > SESSION_GAP_MS || (e.session !== null && prev.session !== null && e.session !== prev.session)) {
      if (sigLen >= 2) countSignature(sigA, sigB);
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
    if (e.item !== null) items.indexOf(e.item);
    if (e.category !== null) categories.indexOf(e.category);
    const day = Math.floor(e.ts / DAY_MS);
    if (day !== lastDay) {
      activeDays++;
      lastDay = day;
    }
    hist[Math.floor(e.ts / HOUR_MS) % 24]++; // UTC hour of day (epoch hours are aligned to UTC)
    if (in24) {
      c.events_24h++;
      if (sessions !== lastSession24) {
        sessions24++;
        lastSession24 = sessions;
      }
      const m = Math.floor(e.ts / MINUTE_MS);
      if (m !== minute) {
        minute = m;
        inMinute = 0;
      }
      if (++inMinute > maxPerMinute) maxPerMinute = inMinute;
    }
    const w = WEIGHT_OF_TYPE.get(e.type) ?? 0;
    if (w > 0) {
      const decayed = w * Math.exp(-(asOf - e.ts) * ln2);
      if (e.category !== null) addTo(catScores, catScore, e.category, decayed);
      if (e.brand !== null) addTo(brandScores, brandScore, e.brand, decayed);
    }
    if (e.category !== null && e.price !== null && (e.type === 'view' || e.type === 'purchase')) {
      const n = prices.size;
      const p = prices.indexOf(e.category);
      if (p === n) {
        vSum[p] = 0;
        vN[p] = 0;
        pSum[p] = 0;
        pN[p] = 0;
      }
      if (e.type === 'view') {
        vSum[p] += e.price;
        vN[p]++;
      } else {
        pSum[p] += e.price;
        pN[p]++;
      }
    }
  }
  if (sigLen >= 2) countSignature(sigA, sigB);
  // Single-event sessions repeat trivially (one view of the home page); only compare real sequences.
  let identical = 0;
  for (let k = 0; k < signatures.size; k++) if (sigCount[k] > 1) identical += sigCount[k];
  const n30 = to - from;
  const last = n30 > 0 ? events[to - 1].ts : 0;

  // A new result, or the caller's one overwritten (the aggregator's emitter encodes it at once).
  const out = into !== null ? into.result : newResult(hist);
  const f = out.features;
  f.views_1h = c.views_1h;
  f.views_24h = c.views_24h;
  f.views_7d = c.views_7d;
  f.views_30d = c.views_30d;
  f.clicks_24h = c.clicks_24h;
  f.clicks_7d = c.clicks_7d;
  f.clicks_30d = c.clicks_30d;
  f.cart_adds_24h = c.cart_adds_24h;
  f.cart_adds_7d = c.cart_adds_7d;
  f.cart_adds_30d = c.cart_adds_30d;
  f.cart_removes_30d = c.cart_removes_30d;
  f.favorites_30d = c.favorites_30d;
  f.purchases_24h = c.purchases_24h;
  f.purchases_7d = c.purchases_7d;
  f.purchases_30d = c.purchases_30d;
  f.spend_30d = spend;
  f.distinct_items_30d = items.size;
  f.distinct_categories_30d = categories.size;
  f.active_days_30d = activeDays;
  f.last_event_at = last;
  f.first_event_at = Number.isFinite(firstEventAt) ? firstEventAt : 0;
  f.sessions_30d = sessions;
  f.avg_events_per_session_30d = sessions > 0 ? n30 / sessions : 0;
  f.view_to_cart_rate_30d = c.views_30d > 0 ? c.cart_adds_30d / c.views_30d : 0;
  f.cart_to_purchase_rate_30d = c.cart_adds_30d > 0 ? c.purchases_30d / c.cart_adds_30d : 0;
  f.days_since_last_purchase = lastPurchase !== null ? (asOf - lastPurchase) / DAY_MS : null;
  f.searches_30d = c.searches_30d;
  f.shares_30d = c.shares_30d;
  f.follows_30d = c.follows_30d;
  f.likes_30d = c.likes_30d;
  f.comments_30d = c.comments_30d;
  f.reviews_30d = c.reviews_30d;
  f.avg_rating_30d = ratingN > 0 ? ratingSum / ratingN : null;
  f.hour_histogram_30d = hist;
  f.max_events_per_minute_24h = maxPerMinute;
  f.events_24h = c.events_24h;
  f.distinct_sessions_24h = sessions24;
  out.as_of = asOf;
  out.ingested_at = ingestedAt;
  out.event_count = n30;
  out.category_prices = topPrices(prices, vSum, vN, pSum, pN, options.topN, into?.prices ?? null);
  out.category_scores = topScores(catScores.keys, catScore, catScores.size, options.topN, into?.categoryScores ?? null);
  out.brand_scores = topScores(brandScores.keys, brandScore, brandScores.size, options.topN, into?.brandScores ?? null);
  const a = out.activity;
  a.identical_session_ratio = sessions > 0 ? identical / sessions : 0;
  a.views_without_dwell_ratio = c.views_24h > 0 ? c.views_24h_no_dwell / c.views_24h : 0;
  a.reviews_24h = c.reviews_24h;
  a.cart_adds_1h = c.cart_adds_1h;
  a.purchases_1h = c.purchases_1h;
  a.follows_24h = c.follows_24h;
  a.likes_24h = c.likes_24h;
  return out;
}

/** A result with every field present (one object shape), the windows' values still to be written. */
function newResult(hist: number[]): ComputedFeatures {
  // prettier-ignore
  const features: Features = {
    views_1h: 0,
    views_24h: 0,
    views_7d: 0,
    views_30d: 0,
    clicks_24h: 0,
    clicks_7d: 0,
    clicks_30d: 0,
    cart_adds_24h: 0,
    cart_adds_7d: 0,
    cart_adds_30d: 0,
    cart_removes_30d: 0,
    favorites_30d: 0,
    purchases_24h: 0,
    purchases_7d: 0,
    purchases_30d: 0,
    spend_30d: 0,
    distinct_items_30d: 0,
    distinct_categories_30d: 0,
    active_days_30d: 0,
    last_event_at: 0,
    first_event_at: 0,
    sessions_30d: 0,
    avg_events_per_session_30d: 0,
    view_to_cart_rate_30d: 0,
    cart_to_purchase_rate_30d: 0,
    days_since_last_purchase: null,
    searches_30d: 0,
    shares_30d: 0,
    follows_30d: 0,
    likes_30d: 0,
    comments_30d: 0,
    reviews_30d: 0,
    avg_rating_30d: null,
    hour_histogram_30d: hist,
    max_events_per_minute_24h: 0,
    events_24h: 0,
    distinct_sessions_24h: 0,
  };
  return {
    as_of: 0,
    ingested_at: 0,
    event_count: 0,
    features,
    category_scores: [],
    brand_scores: [],
    category_prices: [],
    activity: { identical_session_ratio: 0, views_without_dwell_ratio: 0, reviews_24h: 0, cart_adds_1h: 0, purchases_1h: 0, follows_24h: 0, likes_24h: 0 },
  };
}

/**
 * A result for computeFeatures to overwrite on every call, with pools of list entries: no
 * allocation per computation. Valid until the next call that is given it.
 */
export class FeatureResult {
  readonly result: ComputedFeatures = newResult(new Array<number>(24).fill(0));
  /** The UserFeatures envelope around `result`: toUserFeatures assigns every field before it is read. */
  readonly message = {} as UserFeatures;
  readonly categoryScores: Pool<Score> = { list: [], entries: [] };
  readonly brandScores: Pool<Score> = { list: [], entries: [] };
  readonly prices: Pool<CategoryPrice> = { list: [], entries: [] };
}

/** A reused list and the entry objects it draws from. */
interface Pool<T> {
  list: T[];
  entries: T[];
}

/** Adds `v` to the sum of `key` (a new key starts from 0, as `(get(key) ?? 0) + v` did). */
function addTo(index: KeyIndex<string>, sums: number[], key: string, v: number): void {
  const n = index.size;
  const i = index.indexOf(key);
  if (i === n) sums[i] = 0;
  sums[i] += v;
}

/** Counts one session signature (sessions of ≥ 2 events) for identical_session_ratio. */
function countSignature(sigA: number, sigB: number): void {
  const key = (sigA >>> 0) * 2097152 + ((sigB >>> 0) & 0x1fffff);
  const n = scratch.signatures.size;
  const i = scratch.signatures.indexOf(key);
  if (i === n) scratch.sigCount[i] = 0;
  scratch.sigCount[i]++;
}

/** topPrices' ranks (reused). */
let priceRank = new Float64Array(16);

/** category_prices: the n categories with most priced views + purchases (ties by key), a selection. */
function topPrices(
  index: KeyIndex<string>,
  vSum: readonly number[],
  vN: readonly number[],
  pSum: readonly number[],
  pN: readonly number[],
  n: number,
  pool: Pool<CategoryPrice> | null,
): CategoryPrice[] {
  // Ranked by priced views + purchases (at least 1: a category is here only with one of them).
  const rank = priceRank.length >= index.size ? priceRank : (priceRank = new Float64Array(2 * index.size));
  for (let k = 0; k < index.size; k++) rank[k] = vN[k] + pN[k];
  const m = selectTop(index.keys, rank, index.size, n);
  const top = pool !== null ? pool.list : [];
  top.length = m;
  for (let i = 0; i < m; i++) {
    const k = order[i];
    const entry: CategoryPrice =
      pool !== null
        ? (pool.entries[i] ??= { category: '', avg_view_price: null, avg_purchase_price: null, views_with_price: 0, purchases_with_price: 0 })
        : { category: '', avg_view_price: null, avg_purchase_price: null, views_with_price: 0, purchases_with_price: 0 };
    entry.category = index.keys[k];
    entry.avg_view_price = vN[k] > 0 ? vSum[k] / vN[k] : null;
    entry.avg_purchase_price = pN[k] > 0 ? pSum[k] / pN[k] : null;
    entry.views_with_price = vN[k];
    entry.purchases_with_price = pN[k];
    top[i] = entry;
  }
  return top;
}
