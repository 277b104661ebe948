import type { CanonicalEventJson, LabelRow } from './canonical-event';
import { CATEGORIES, CITIES, itemId, REFERRERS, REFERRER_WEIGHTS, TIER_PRICE } from './catalog';
import { DEFAULT_BOT_FRACTION, Persona, personaIp, personaOf } from './personas';
import { hash32, Rng } from './prng';

/**
 * Built-in clickstream generator: simulated shoppers with a latent persona (see personas.ts)
 * shopping in sessions (search → views → cart → purchase funnels, favourites, reviews and social
 * actions), plus a few click-farm bots. Deterministic for a seed; lazy (memory grows with the
 * number of users and of sessions in progress, not with the number of events); events come out
 * in event-time order across all users.
 */
export interface GeneratorOptions {
  seed: number;
  users: number;
  /** Simulated days (default 7). */
  days?: number;
  /** Start of the simulated period, epoch ms (default 2026-01-01T00:00:00Z, fixed so a seed reproduces a dataset). */
  startMs?: number;
  /** Fraction of users that are click-farm bots (default 0.01). */
  botFraction?: number;
  /** Mean events per human user per day (default 20); bots scale with it. */
  eventsPerUserPerDay?: number;
  /** Prefix of user ids (default `u`). */
  userPrefix?: string;
}

export const DEFAULT_GENERATOR_START_MS = Date.UTC(2026, 0, 1);
export const DEFAULT_GENERATOR_DAYS = 7;
export const DEFAULT_EVENTS_PER_USER_PER_DAY = 20;
export const GENERATOR_BOT_FRACTION = DEFAULT_BOT_FRACTION;
/** Currency of every generated price. */
export const GENERATOR_CURRENCY = 'CNY';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Local time of the simulated shop (China, UTC+8) drives the daily rhythm. */
const LOCAL_OFFSET_MS = 8 * HOUR;
/** Measured mean number of events in a human session (keeps eventsPerUserPerDay honest). */
const HUMAN_EVENTS_PER_SESSION = 13;
/** Prices in the catalogue are in roughly USD; the shop sells in CNY. */
const CNY_PER_UNIT = 7;

// ---- catalogue tables built once ----
interface CategoryTable {
  brandOf: Uint8Array;
  priceOf: Float64Array;
  /** Item indices per brand (0–5). */
  itemsByBrand: number[][];
}
const TABLES: CategoryTable[] = CATEGORIES.map((c, ci) => {
  const brandOf = new Uint8Array(c.items);
  const priceOf = new Float64Array(c.items);
  const itemsByBrand: number[][] = [[], [], [], [], [], []];
  const rng = new Rng(hash32(0xca7a106, ci));
  for (let n = 0; n < c.items; n++) {
    const b = rng.int(0, 5);
    brandOf[n] = b;
    itemsByBrand[b].push(n);
    const p = c.medianPrice * TIER_PRICE[b >> 1] * rng.logNormal(1, 0.35) * CNY_PER_UNIT;
    priceOf[n] = Math.max(1, Math.round(p * 100) / 100 - 0.01);
  }
  for (let b = 0; b < 6; b++) if (itemsByBrand[b].length === 0) itemsByBrand[b].push(b % c.items);
  return { brandOf, priceOf, itemsByBrand };
});

/** Weight of each local hour for a human whose peak hour is `peak` (index = local hour). */
const HOUR_TABLES: Float64Array[] = Array.from({ length: 24 }, (_, peak) => {
  const t = new Float64Array(24);
  for (let h = 0; h < 24; h++) {
    const d = Math.min(Math.abs(h - peak), 24 - Math.abs(h - peak));
    const asleep = h >= 2 && h <= 6 ? 0.15 : 1;
    t[h] = (0.12 + Math.exp(-(d * d) / (2 * 3.2 * 3.2)) + (h === 12 || h === 13 ? 0.35 : 0)) * asleep;
  }
  const max = Math.max(...t);
  for (let h = 0; h < 24; h++) t[h] /= max;
  return t;
});
const HOUR_TABLE_MEAN: number[] = HOUR_TABLES.map((t) => t.reduce((a, b) => a + b, 0) / 24);

const USER_AGENTS: Record<string, string> = {
  iOS: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 ShopApp/8.2',
  iPadOS: 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 ShopApp/8.2',
  Android: 'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36 ShopApp/8.2',
  Windows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36',
  macOS: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15',
};
const BOT_USER_AGENTS = [
  'python-requests/2.31.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0.0.0 Safari/537.36',
  'okhttp/4.12.0',
];
/** Data-centre ranges bots share. */
const BOT_NETS = ['45.76', '104.248', '159.65', '188.166'];

/** Expected number of events for these options (for progress bars and ETAs; ±15 %). */
export function expectedEventCount(options: GeneratorOptions): number {
  const days = options.days ?? DEFAULT_GENERATOR_DAYS;
  return Math.round(options.users * days * (options.eventsPerUserPerDay ?? DEFAULT_EVENTS_PER_USER_PER_DAY) * 1.1);
}

/** Per-user simulation state. */
class Shopper {
  readonly rng: Rng;
  seq = 0;
  sessions = 0;
  buffer: CanonicalEventJson[] | null = null;
  pos = 0;
  /** When the last session ended. */
  lastEnd = 0;
  /** Items bought in earlier sessions, for reviews: [category, item] pairs (last few). */
  bought: number[] = [];
  /** Fixed script of a replay bot (category, items). */
  readonly base: Required<Pick<CanonicalEventJson, 'user_id' | 'device' | 'os' | 'city' | 'region' | 'country' | 'ip' | 'user_agent'>>;
  readonly sessionsPerMs: number;

  constructor(
    readonly p: Persona,
    readonly seed: number,
    private readonly users: number,
    private readonly userPrefix: string,
    eventsPerDay: number,
  ) {
    this.rng = new Rng(hash32(hash32(seed, 0xe7e47), p.index));
    const city = CITIES[p.city];
    if (p.bot) {
      const net = BOT_NETS[p.index % BOT_NETS.length];
      this.base = {
        user_id: p.user_id,
        device: 'desktop',
        os: 'Linux',
        city: city.city,
        region: city.region,
        country: 'CN',
        ip: `${net}.${(p.ipHost >>> 8) & 15}.${p.ipHost & 255}`,
        user_agent: BOT_USER_AGENTS[p.index % BOT_USER_AGENTS.length],
      };
      // ~6 sessions a day at 20 events/user/day, around the clock.
      this.sessionsPerMs = ((6 * eventsPerDay) / DEFAULT_EVENTS_PER_USER_PER_DAY) * (0.7 + p.activity * 0.3) / DAY;
    } else {
      this.base = {
        user_id: p.user_id,
        device: p.device,
        os: p.os,
        city: city.city,
        region: city.region,
        country: 'CN',
        ip: personaIp(p),
        user_agent: USER_AGENTS[p.os] ?? USER_AGENTS.Android,
      };
      this.sessionsPerMs = (eventsPerDay * p.activity) / HUMAN_EVENTS_PER_SESSION / DAY;
    }
  }

  /** Next session start after `after` (inhomogeneous Poisson process by local hour, via thinning). */
  nextSessionStart(after: number): number {
    const p = this.p;
    if (p.bot === 'replay_bot') {
      // Clockwork: the same script at a fixed period.
      const period = Math.round(1 / this.sessionsPerMs);
      return this.sessions === 0 ? after + Math.floor(this.rng.next() * period) : after + period;
    }
    if (p.bot) return after + this.rng.exp(1 / this.sessionsPerMs);
    const table = HOUR_TABLES[p.peakHour];
    // Rate at the peak hour such that the daily mean is sessionsPerMs.
    const meanPerMsAtPeak = this.sessionsPerMs / HOUR_TABLE_MEAN[p.peakHour];
    let t = after;
    for (let guard = 0; guard < 10000; guard++) {
      t += this.rng.exp(1 / meanPerMsAtPeak);
      const hour = Math.floor(((t + LOCAL_OFFSET_MS) % DAY) / HOUR);
      if (this.rng.next() < table[hour]) return t;
    }
    return t;
  }

  /**
   * One event with every field present (absent ones undefined, which JSON and the Avro
   * conversion drop): a single object shape keeps V8 fast. `c`/`n` select the item, −1 none.
   */
  private event(type: string, ts: number, sessionId: string, c = -1, n = -1): CanonicalEventJson {
    const b = this.base;
    const hasItem = c >= 0;
    const table = hasItem ? TABLES[c] : undefined;
    return {
      event_id: `g${this.seed}-${this.p.index}-${this.seq++}`,
      user_id: b.user_id,
      session_id: sessionId,
      event_type: type,
      ts: Math.round(ts),
      item_id: hasItem ? itemId(c, n) : undefined,
      category: hasItem ? CATEGORIES[c].path : undefined,
      brand: table ? CATEGORIES[c].brands[table.brandOf[n]] : undefined,
      price: table ? table.priceOf[n] : undefined,
      currency: hasItem ? GENERATOR_CURRENCY : undefined,
      quantity: undefined,
      rating: undefined,
      query: undefined,
      target_user_id: undefined,
      device: b.device,
      os: b.os,
      city: b.city,
      region: b.region,
      country: b.country,
      ip: b.ip,
      user_agent: b.user_agent,
      referrer: undefined,
      source: undefined,
    };
  }

  /** Builds the events of a session starting at `t0` into the buffer. */
  startSession(t0: number): void {
    const sessionId = `g${this.seed}-${this.p.index}-s${this.sessions++}`;
    const out: CanonicalEventJson[] = [];
    if (this.p.bot) this.botSession(t0, sessionId, out);
    else this.humanSession(t0, sessionId, out);
    this.buffer = out;
    this.pos = 0;
    this.lastEnd = out[out.length - 1].ts as number;
  }

  private pickItem(c: number, brand: number): number {
    const list = TABLES[c].itemsByBrand[brand];
    return list[Math.floor(this.rng.next() * list.length)];
  }

  private humanSession(t0: number, sid: string, out: CanonicalEventJson[]): void {
    const { rng, p } = this;
    let t = t0;
    const referrer = REFERRERS[rng.weighted(REFERRER_WEIGHTS)];
    const push = (e: CanonicalEventJson): CanonicalEventJson => {
      if (out.length === 0) e.referrer = referrer;
      out.push(e);
      return e;
    };
    const pickCategory = (): number =>
      rng.chance(0.8)
        ? p.favoriteCategories[Math.min(p.favoriteCategories.length - 1, Math.floor(rng.exp(1.2)))]
        : rng.int(0, CATEGORIES.length - 1);
    let c = pickCategory();
    // A review of something bought earlier, written at the start of a later visit.
    if (this.bought.length > 0 && rng.chance(0.12)) {
      const k = rng.int(0, this.bought.length / 2 - 1) * 2;
      const rc = this.bought[k];
      const rn = this.bought[k + 1];
      const fi = p.favoriteCategories.indexOf(rc);
      const favBrand = fi >= 0 && p.favoriteBrands[fi] === TABLES[rc].brandOf[rn];
      push(this.event('review', t, sid, rc, rn)).rating = favBrand
        ? rng.chance(0.7)
          ? 5
          : 4
        : rng.weighted([0.06, 0.1, 0.2, 0.34, 0.3]) + 1;
      t += rng.logNormal(40 * SECOND, 0.5);
      if (rng.chance(0.15)) {
        push(this.event('comment', t, sid, rc, rn));
        t += rng.logNormal(20 * SECOND, 0.5);
      }
    }
    if (rng.chance(0.55)) {
      const cat = CATEGORIES[c];
      const fi = p.favoriteCategories.indexOf(c);
      push(this.event('search', t, sid)).query =
        rng.chance(0.3) && fi >= 0 ? `${cat.brands[p.favoriteBrands[fi]]} ${rng.pick(cat.words)}` : rng.pick(cat.words);
      t += rng.logNormal(6 * SECOND, 0.5);
    }
    const views = rng.geometric(5 * (0.7 + 0.3 * p.activity));
    const cart: number[] = [];
    for (let v = 0; v < views; v++) {
      if (v > 0 && rng.chance(0.15)) c = pickCategory();
      const fi = p.favoriteCategories.indexOf(c);
      let brand: number;
      if (fi >= 0 && rng.chance(0.45)) brand = p.favoriteBrands[fi];
      else brand = (rng.chance(0.6) ? p.tier : rng.int(0, 2)) * 2 + rng.int(0, 1);
      const n = this.pickItem(c, brand);
      if (rng.chance(0.4)) {
        push(this.event('click', t, sid, c, n));
        t += rng.int(300, 2500);
      }
      push(this.event('view', t, sid, c, n));
      const favBrand = fi >= 0 && p.favoriteBrands[fi] === brand;
      const tierFit = brand >> 1 === p.tier;
      t += rng.logNormal((favBrand ? 40 : 22) * SECOND, 0.8);
      if (rng.chance(favBrand ? 0.08 : 0.03)) {
        push(this.event('favorite', t, sid, c, n));
        t += rng.int(500, 4000);
      }
      if (rng.chance(0.04)) {
        push(this.event('like', t, sid, c, n));
        t += rng.int(500, 3000);
      }
      if (rng.chance(0.008)) {
        push(this.event('share', t, sid, c, n));
        t += rng.int(3000, 15000);
      }
      if (rng.chance(0.006)) {
        push(this.event('comment', t, sid, c, n));
        t += rng.logNormal(30 * SECOND, 0.5);
      }
      const pCart = 0.07 * (favBrand ? 2.2 : 1) * (fi >= 0 ? 1.4 : 1) * (tierFit ? 1.3 : 0.5);
      if (rng.chance(pCart)) {
        const quantity = CATEGORIES[c].medianPrice < 10 ? rng.int(1, 4) : rng.chance(0.1) ? 2 : 1;
        push(this.event('cart_add', t, sid, c, n)).quantity = quantity;
        cart.push(c, n, quantity);
        t += rng.int(1500, 8000);
      }
    }
    // Checkout: drop a few, then buy the rest (or abandon the cart).
    if (cart.length > 0) {
      const keep: number[] = [];
      for (let k = 0; k < cart.length; k += 3) {
        if (rng.chance(0.15)) {
          push(this.event('cart_remove', t, sid, cart[k], cart[k + 1])).quantity = cart[k + 2];
          t += rng.int(1000, 5000);
        } else keep.push(cart[k], cart[k + 1], cart[k + 2]);
      }
      if (keep.length > 0 && rng.chance(0.45 + 0.1 * p.tier)) {
        t += rng.logNormal(40 * SECOND, 0.6);
        for (let k = 0; k < keep.length; k += 3) {
          push(this.event('purchase', t, sid, keep[k], keep[k + 1])).quantity = keep[k + 2];
          t += rng.int(50, 400);
          this.bought.push(keep[k], keep[k + 1]);
        }
        if (this.bought.length > 16) this.bought.splice(0, this.bought.length - 16);
        if (rng.chance(0.05)) {
          push(this.event('share', t, sid, keep[0], keep[1]));
          t += rng.int(2000, 9000);
        }
      }
    }
    if (rng.chance(0.02) && this.users > 1) {
      let target = rng.int(0, this.users - 2);
      if (target >= p.index) target++;
      push(this.event('follow', t, sid)).target_user_id = `${this.userPrefix}${target}`;
    }
    // A session with no events at all cannot happen: views ≥ 1.
  }

  private botSession(t0: number, sid: string, out: CanonicalEventJson[]): void {
    const { rng, p } = this;
    let t = t0;
    switch (p.bot) {
      case 'view_farm': {
        // Inflating view counts: bursts of views on a couple of items, no dwell.
        const c = rng.int(0, CATEGORIES.length - 1);
        const a = this.pickItem(c, rng.int(0, 5));
        const b = this.pickItem(c, rng.int(0, 5));
        const n = rng.int(40, 120);
        for (let k = 0; k < n; k++) {
          out.push(this.event('view', t, sid, c, k % 2 === 0 ? a : b));
          t += rng.int(150, 900);
        }
        break;
      }
      case 'cart_farm': {
        // Brushing orders: the same cheap item carted and bought over and over.
        const c = rng.int(0, CATEGORIES.length - 1);
        const n0 = this.pickItem(c, 0);
        const cycles = rng.int(10, 30);
        for (let k = 0; k < cycles; k++) {
          out.push(this.event('view', t, sid, c, n0));
          t += rng.int(200, 600);
          const add = this.event('cart_add', t, sid, c, n0);
          add.quantity = rng.int(1, 5);
          out.push(add);
          t += rng.int(200, 600);
          const buy = this.event('purchase', t, sid, c, n0);
          buy.quantity = add.quantity;
          out.push(buy);
          t += rng.int(300, 900);
        }
        break;
      }
      case 'replay_bot': {
        // The identical script every session (same items, same gaps).
        const script = new Rng(hash32(hash32(this.seed, 0x5c41), p.index));
        const c = script.int(0, CATEGORIES.length - 1);
        const steps = script.int(15, 40);
        const search = this.event('search', t, sid);
        search.query = CATEGORIES[c].words[0];
        out.push(search);
        t += 1000;
        for (let k = 0; k < steps; k++) {
          const list = TABLES[c].itemsByBrand[script.int(0, 5)];
          out.push(this.event(k % 3 === 2 ? 'click' : 'view', t, sid, c, list[script.int(0, list.length - 1)]));
          t += 1000 + script.int(0, 4) * 250;
        }
        break;
      }
      case 'social_farm': {
        // Follow/like farming: many distinct accounts followed within minutes.
        const n = rng.int(30, 90);
        for (let k = 0; k < n; k++) {
          if (k % 3 === 2) {
            const c = rng.int(0, CATEGORIES.length - 1);
            out.push(this.event('like', t, sid, c, this.pickItem(c, rng.int(0, 5))));
          } else {
            const f = this.event('follow', t, sid);
            f.target_user_id = `${this.userPrefix}${rng.int(0, Math.max(0, this.users - 1))}`;
            out.push(f);
          }
          t += rng.int(400, 1500);
        }
        break;
      }
      default: {
        // review_farm: five-star reviews of one brand without buying anything.
        const c = rng.int(0, CATEGORIES.length - 1);
        const brand = rng.int(0, 5);
        const n = rng.int(15, 45);
        for (let k = 0; k < n; k++) {
          const r = this.event('review', t, sid, c, this.pickItem(c, brand));
          r.rating = 5;
          out.push(r);
          t += rng.int(1500, 6000);
        }
      }
    }
  }
}

/**
 * Min-heap of shoppers keyed by (time of their next event or session start, user index): the
 * k-way merge that puts every user's events in global event-time order.
 */
class ShopperHeap {
  private readonly heap: number[] = [];
  constructor(private readonly key: Float64Array) {}

  get size(): number {
    return this.heap.length;
  }

  private less(a: number, b: number): boolean {
    const ka = this.key[a];
    const kb = this.key[b];
    return ka < kb || (ka === kb && a < b);
  }

  push(u: number): void {
    const h = this.heap;
    h.push(u);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  peek(): number {
    return this.heap[0];
  }

  /** Restores order after the top's key grew. */
  siftTop(): void {
    const h = this.heap;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }

  pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      this.siftTop();
    }
  }
}

/**
 * Simulated clickstream of `users` shoppers over `days` days, in event-time order. Lazy: iterate
 * it (for…of) and stop whenever you like. Event ids are `g<seed>-<user index>-<n>`, so a seed
 * always yields the same ids (a second replay is deduplicated downstream).
 */
export function* generateEvents(options: GeneratorOptions): Generator<CanonicalEventJson> {
  const users = Math.max(0, Math.floor(options.users));
  const days = options.days ?? DEFAULT_GENERATOR_DAYS;
  const start = options.startMs ?? DEFAULT_GENERATOR_START_MS;
  const end = start + days * DAY;
  const perDay = options.eventsPerUserPerDay ?? DEFAULT_EVENTS_PER_USER_PER_DAY;
  const botFraction = options.botFraction ?? DEFAULT_BOT_FRACTION;
  const userPrefix = options.userPrefix ?? 'u';
  const shoppers: Shopper[] = new Array<Shopper>(users);
  const key = new Float64Array(users);
  const heap = new ShopperHeap(key);
  for (let i = 0; i < users; i++) {
    const s = new Shopper(personaOf(options.seed, i, { botFraction, userPrefix }), options.seed, users, userPrefix, perDay);
    shoppers[i] = s;
    const first = s.nextSessionStart(start);
    if (first < end) {
      key[i] = first;
      heap.push(i);
    }
  }
  while (heap.size > 0) {
    const u = heap.peek();
    const s = shoppers[u];
    if (s.buffer === null) s.startSession(key[u]);
    const buf = s.buffer as CanonicalEventJson[];
    const e = buf[s.pos++];
    if (s.pos < buf.length) {
      key[u] = buf[s.pos].ts as number;
      heap.siftTop();
    } else {
      s.buffer = null;
      const next = s.nextSessionStart(s.lastEnd + MINUTE);
      if (next < end) {
        key[u] = next;
        heap.siftTop();
      } else heap.pop();
    }
    // Sessions that run past the end of the period are cut there.
    if ((e.ts as number) < end) yield e;
  }
}

export interface GeneratedLabelOptions {
  /** Fraction of (human) users whose attributes are emitted, 0–1. */
  fraction: number;
  seed: number;
  /** Also label bots (their attributes are random; default false). */
  includeBots?: boolean;
}

/** Attribute names the generator can emit as labels. */
export const GENERATOR_ATTRIBUTES = ['age', 'gender', 'consumption_level'] as const;

/**
 * Known attributes (age, gender, consumption_level) of exactly round(fraction × n) users drawn
 * with the seed, in user order.
 */
export function generateLabels(personas: Iterable<Persona>, options: GeneratedLabelOptions): LabelRow[] {
  const pool: Persona[] = [];
  for (const p of personas) if (options.includeBots || p.bot === null) pool.push(p);
  const take = Math.round(Math.min(1, Math.max(0, options.fraction)) * pool.length);
  const rng = new Rng(hash32(options.seed, 0x1abe1));
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(rng.next() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool
    .slice(0, take)
    .sort((a, b) => a.index - b.index)
    .map((p) => ({ user_id: p.user_id, attributes: { age: p.age, gender: p.gender, consumption_level: p.consumption_level } }));
}
