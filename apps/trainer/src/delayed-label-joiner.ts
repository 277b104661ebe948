import type { UserFeatures } from '@app/contracts';
import { RawSample, rawEncode } from '@app/model';

const DAY_MS = 86_400_000;

/** A training sample: the features as they were at `asOf`, labels revealed later. null = unknown. */
export interface TrainingSample {
  userId: string;
  asOf: number;
  raw: RawSample;
  /** Top category keys of the user at asOf (feeds the next-categories vocabulary). */
  categoriesAtAsOf: string[];
  attributes: Record<string, string | null>;
  /** Purchased within (asOf, asOf + horizon]; null when the horizon was not observed. */
  purchase: boolean | null;
  /** Categories interacted with within (asOf, asOf + horizon]; null when not observed. */
  nextCategories: string[] | null;
}

export interface JoinerOptions {
  horizonMs: number;
  /** A user gets at most one new sample per this much event time (samples of one user are near-duplicates). */
  spacingMs: number;
  /** The event-time watermark trails the newest as_of by this much (late users across partitions). */
  watermarkLagMs: number;
  maxPending: number;
  maxUsers: number;
}

interface Pending {
  sample: TrainingSample;
  purchased: boolean;
  categories: Set<string>;
  resolved: boolean;
  /** The attribute labels already taught through an immediate sample: the delayed one masks them. */
  attributesSent: boolean;
}

interface UserTrack {
  asOf: number;
  lastPurchaseAt: number | null;
  categoryScores: Map<string, number>;
  lastSampleAt: number;
  pending: Pending[];
}

/**
 * Event-time join of UserFeatures with the labels the stream reveals later.
 *
 * A sample is the user's feature vector at as_of = t, encoded immediately and never touched again
 * (no future leakage). It is held until the label window (t, t + horizon] is closed, either by a
 * later UserFeatures of the same user with as_of >= t + horizon or by the event-time watermark
 * (newest as_of seen − lag) passing t + horizon. Labels come from the differences between the
 * user's later UserFeatures messages, not from ClickHouse: the trainer stays a pure stream
 * processor (no query per sample, no dependency on another service's table layout):
 *  - purchase: the last purchase time (as_of − days_since_last_purchase) of a later message within
 *    the window lies after t;
 *  - next categories: a category's decayed interest score rose between two consecutive messages
 *    (decay only lowers scores, so a rise — or a key entering the top list — means an event).
 * When a sample is evicted before its window closes (memory bound), its delayed labels are null
 * (masked), while its attribute labels still teach.
 *
 * Attribute labels (age, gender, ...) do not depend on the future, so they do not wait for the
 * window: when the user's attributes are known as the sample is taken, an attribute-only sample
 * (delayed labels masked) is returned at once, and the delayed sample that follows carries only
 * the delayed labels (attributes masked) — each label teaches once. Otherwise attribute learning
 * would lag the stream by the whole horizon (24 h of event time), and a stream shorter than that
 * would never teach the attribute heads at all.
 */
export class DelayedLabelJoiner {
  private readonly users = new Map<string, UserTrack>();
  private readonly queue: Pending[] = [];
  private queueHead = 0;
  private watermark = -Infinity;
  evicted = 0;
  outOfOrder = 0;

  constructor(
    private readonly options: JoinerOptions,
    private readonly attributesOf: (userId: string) => Record<string, string | null> | undefined,
  ) {}

  get pending(): number {
    return this.queue.length - this.queueHead;
  }

  /** Feeds one UserFeatures; returns the samples whose label window closed. */
  add(u: UserFeatures): TrainingSample[] {
    const out: TrainingSample[] = [];
    const lastPurchaseAt = u.features.days_since_last_purchase === null ? null : u.as_of - u.features.days_since_last_purchase * DAY_MS;
    const scores = new Map(u.category_scores.map((s) => [s.key, s.score]));
    let track = this.users.get(u.user_id);
    if (track && u.as_of < track.asOf) {
      this.outOfOrder++;
      return out;
    }
    if (track) {
      this.users.delete(u.user_id); // re-insert: Map order = least recently seen first
      for (const p of track.pending) {
        if (p.resolved) continue;
        const end = p.sample.asOf + this.options.horizonMs;
        if (u.as_of <= end) {
          // +1 ms: days_since_last_purchase is a double; a purchase at exactly t belongs to the features.
          if (lastPurchaseAt !== null && lastPurchaseAt > p.sample.asOf + 1) p.purchased = true;
          for (const [key, score] of scores) {
            const before = track.categoryScores.get(key);
            if (before === undefined || score > before * (1 + 1e-9)) p.categories.add(key);
          }
        }
        if (u.as_of >= end) this.resolve(p, true, out);
      }
      track.pending = track.pending.filter((p) => !p.resolved);
      track.asOf = u.as_of;
      track.lastPurchaseAt = lastPurchaseAt;
      track.categoryScores = scores;
    } else {
      track = { asOf: u.as_of, lastPurchaseAt, categoryScores: scores, lastSampleAt: -Infinity, pending: [] };
    }
    this.users.set(u.user_id, track);

    if (u.as_of >= track.lastSampleAt + this.options.spacingMs) {
      const p: Pending = {
        sample: {
          userId: u.user_id,
          asOf: u.as_of,
          raw: rawEncode(u),
          categoriesAtAsOf: u.category_scores.map((s) => s.key),
          attributes: {},
          purchase: null,
          nextCategories: null,
        },
        purchased: false,
        categories: new Set(),
        resolved: false,
        attributesSent: false,
      };
      const known = this.attributesOf(u.user_id);
      if (known && Object.values(known).some((v) => v !== null)) {
        out.push({ ...p.sample, attributes: { ...known } });
        p.attributesSent = true;
      }
      track.pending.push(p);
      track.lastSampleAt = u.as_of;
      this.queue.push(p);
    }

    this.watermark = Math.max(this.watermark, u.as_of - this.options.watermarkLagMs);
    this.drain(out);
    this.bound(out);
    return out;
  }

  private drain(out: TrainingSample[]): void {
    while (this.queueHead < this.queue.length) {
      const p = this.queue[this.queueHead];
      if (!p.resolved && p.sample.asOf + this.options.horizonMs > this.watermark) break;
      this.queueHead++;
      if (!p.resolved) this.resolve(p, true, out);
    }
    if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private bound(out: TrainingSample[]): void {
    while (this.pending > this.options.maxPending) {
      const p = this.queue[this.queueHead++];
      if (!p.resolved) {
        this.evicted++;
        this.resolve(p, false, out);
      }
    }
    while (this.users.size > this.options.maxUsers) {
      const oldest = this.users.keys().next().value as string;
      this.users.delete(oldest); // its pending samples stay queued and close by the watermark
    }
  }

  private resolve(p: Pending, observed: boolean, out: TrainingSample[]): void {
    p.resolved = true;
    const s = p.sample;
    s.attributes = p.attributesSent ? {} : { ...(this.attributesOf(s.userId) ?? {}) };
    s.purchase = observed ? p.purchased : null;
    s.nextCategories = observed ? [...p.categories] : null;
    out.push(s);
  }
}
