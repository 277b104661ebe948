import type { CategoryPrice, Features, Score } from '@app/contracts';
import {
  ComputedFeatures,
  computeFeatures,
  FeatureResult,
  DAY_MS,
  DEFAULT_FEATURE_OPTIONS,
  FeatureOptions,
  firstAfter,
  HOUR_MS,
  INTEREST_WEIGHTS,
  MAX_WINDOW_MS,
  MINUTE_MS,
  NO_DWELL_MS,
  SESSION_GAP_MS,
} from './feature-definitions';
import type { FeatureEvent } from './feature-event';

/** The straightforward definitions (string signatures, full sorts) the optimised code must equal. */
function reference(events: FeatureEvent[], asOf: number, topN: number, halfLifeMs: number) {
  const inWindow = events.filter((e) => e.ts > asOf - 30 * DAY_MS && e.ts <= asOf);
  const sigs: string[] = [];
  let sig: string[] = [];
  inWindow.forEach((e, i) => {
    const prev = i > 0 ? inWindow[i - 1] : null;
    if (!prev || e.ts - prev.ts > SESSION_GAP_MS || (e.session !== null && prev.session !== null && e.session !== prev.session)) {
      if (sig.length > 0) sigs.push(sig.join('\u0001'));
      sig = [];
    }
    sig.push(`${e.type}\u0002${e.item ?? ''}`);
  });
  if (sig.length > 0) sigs.push(sig.join('\u0001'));
  const count = new Map<string, number>();
  for (const s of sigs) count.set(s, (count.get(s) ?? 0) + 1);
  const identical = sigs.filter((s) => s.includes('\u0001') && count.get(s)! > 1).length;
  const weights: Record<string, number> = { view: 1, click: 1, favorite: 3, cart_add: 4, purchase: 8 };
  const scores = new Map<string, number>();
  for (const e of inWindow) {
    const w = weights[e.type] ?? 0;
    if (w > 0 && e.category !== null) scores.set(e.category, (scores.get(e.category) ?? 0) + w * Math.exp(-(asOf - e.ts) * (Math.LN2 / halfLifeMs)));
  }
  const top = [...scores.entries()]
    .filter(([, s]) => s > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, topN)
    .map(([key, score]) => ({ key, score }));
  return { identical_session_ratio: sigs.length > 0 ? identical / sigs.length : 0, category_scores: top };
}

describe('computeFeatures (optimised parts against the plain definitions)', () => {
  it('identical_session_ratio and category_scores equal the string-signature / full-sort definitions', () => {
    let x = 17;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const types = ['view', 'click', 'cart_add', 'purchase', 'favorite', 'search'];
    const asOf = Date.UTC(2026, 0, 31);
    let withRepeats = 0;
    for (let u = 0; u < 150; u++) {
      const events: FeatureEvent[] = [];
      let ts = asOf - 20 * DAY_MS;
      const n = Math.floor(rand() * 60);
      for (let i = 0; i < n; i++) {
        // Sessions that repeat: a small alphabet of items and a few fixed patterns.
        ts += rand() < 0.4 ? SESSION_GAP_MS + MINUTE_MS * Math.floor(rand() * 600) : Math.floor(rand() * 5 * MINUTE_MS);
        events.push({
          event_id: `e${u}-${i}`,
          ts,
          type: types[Math.floor(rand() * (rand() < 0.5 ? 2 : types.length))],
          item: rand() < 0.1 ? null : `i${Math.floor(rand() * 2)}`,
          category: rand() < 0.1 ? null : `c${Math.floor(rand() * 12)}`,
          brand: null,
          price: null,
          quantity: 1,
          rating: null,
          session: rand() < 0.3 ? `s${Math.floor(i / 4)}` : null,
          ingested_at: ts,
        });
      }
      const got = computeFeatures(events, asOf, 0, { halfLifeMs: 7 * DAY_MS, topN: 4 });
      const want = reference(events, asOf, 4, 7 * DAY_MS);
      expect(got.activity.identical_session_ratio).toBe(want.identical_session_ratio);
      expect(got.category_scores).toEqual(want.category_scores);
      if (want.identical_session_ratio > 0 && want.identical_session_ratio < 1) withRepeats++;
    }
    expect(withRepeats).toBeGreaterThan(10); // the streams do exercise repeated sessions
  });
});

describe('computeFeatures (every output against the collection-based version it replaced)', () => {
  it('equals the reference on random users of every size, from 0 to 200 events', () => {
    let x = 4242;
    const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const types = ['view', 'view', 'view', 'click', 'cart_add', 'purchase', 'favorite', 'search', 'review', 'like', 'follow', 'share', 'comment', 'cart_remove'];
    const asOf = Date.UTC(2026, 0, 31, 13, 7);
    const options: FeatureOptions = { halfLifeMs: 3 * DAY_MS, topN: 5 };
    const sizes = [0, 1, 2, 3, 5, 8, 15, 16, 17, 18, 30, 33, 60, 120, 200];
    const reused = new FeatureResult();
    for (let u = 0; u < 300; u++) {
      const n = sizes[u % sizes.length];
      const vocab = 1 + Math.floor(rand() * (u % 3 === 0 ? 40 : 6)); // few or many distinct keys
      const events: FeatureEvent[] = [];
      let ts = asOf - Math.floor(rand() * 35 * DAY_MS);
      for (let i = 0; i < n; i++) {
        ts += rand() < 0.2 ? Math.floor(rand() * DAY_MS) : rand() < 0.5 ? Math.floor(rand() * 3000) : Math.floor(rand() * 20 * MINUTE_MS);
        const type = types[Math.floor(rand() * types.length)];
        events.push({
          event_id: `e${u}-${i}`,
          ts: Math.min(ts, asOf + (rand() < 0.05 ? HOUR_MS : 0)),
          type,
          item: rand() < 0.1 ? null : `i${Math.floor(rand() * vocab * 2)}`,
          category: rand() < 0.1 ? null : `c${Math.floor(rand() * vocab)}`,
          brand: rand() < 0.2 ? null : `b${Math.floor(rand() * vocab)}`,
          price: rand() < 0.2 ? null : Math.round(rand() * 50000) / 100,
          quantity: 1 + Math.floor(rand() * 3),
          rating: type === 'review' && rand() < 0.8 ? 1 + Math.floor(rand() * 5) : null,
          session: rand() < 0.3 ? null : `s${Math.floor(i / 5)}`,
          ingested_at: ts + Math.floor(rand() * 1000),
        });
      }
      events.sort((a, b) => a.ts - b.ts || (a.event_id < b.event_id ? -1 : 1));
      const got = computeFeatures(events, asOf, 17, options);
      const want = referenceComputeFeatures(events, asOf, 17, options);
      expect([u, n, got]).toEqual([u, n, want]);
      // The emitter's way: one result overwritten user after user (lists grow and shrink).
      expect([u, n, computeFeatures(events, asOf, 17, options, reused)]).toEqual([u, n, want]);
      expect(JSON.stringify(reused.result)).toBe(JSON.stringify(got)); // same field order too
    }
  });
});

/** Score a ranks before b: higher score first, ties by key. */
const refBefore = (aKey: string, aScore: number, bKey: string, bScore: number) => aScore > bScore || (aScore === bScore && aKey < bKey);

/** The n best positive scores, best first (ties by key): a selection, no sort of every entry. */
function refTopScores(m: Map<string, number>, n: number): Score[] {
  const top: Score[] = [];
  for (const [key, score] of m) {
    if (!(score > 0)) continue;
    if (top.length === n && !refBefore(key, score, top[n - 1].key, top[n - 1].score)) continue;
    let i = Math.min(top.length, n - 1);
    while (i > 0 && refBefore(key, score, top[i - 1].key, top[i - 1].score)) i--;
    top.splice(i, 0, { key, score });
    if (top.length > n) top.pop();
  }
  return top;
}

/** FNV-1a step over a string's UTF-16 code units (session signatures, see computeFeatures). */
function refFnv(h: number, s: string, prime: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), prime);
  return h;
}

/** computeFeatures as it was before KeyIndex (fresh Sets and Maps, sort of every price entry): the reference. */
function referenceComputeFeatures(
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
  const items = new Set<string>();
  const categories = new Set<string>();
  const days = new Set<number>();
  const perMinute = new Map<number, number>();
  const catScores = new Map<string, number>();
  const brandScores = new Map<string, number>();
  const sessions24 = new Set<number>();
  const sigCount = new Map<number, number>();
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
    sigA = refFnv(Math.imul(sigA ^ 1, 0x01000193), e.type, 0x01000193);
    sigA = refFnv(Math.imul(sigA ^ 2, 0x01000193), e.item ?? '', 0x01000193);
    sigB = refFnv(Math.imul(sigB ^ 1, 0x100001b3), e.type, 0x100001b3);
    sigB = refFnv(Math.imul(sigB ^ 2, 0x100001b3), e.item ?? '', 0x100001b3);
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
    category_scores: refTopScores(catScores, options.topN),
    brand_scores: refTopScores(brandScores, options.topN),
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
