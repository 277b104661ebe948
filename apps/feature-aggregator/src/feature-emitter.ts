import type { Logger } from 'pino';
import { BufferedWriter, toDateTimeString } from '@app/clickhouse';
import { Codecs, UserFeatures } from '@app/contracts';
import { FeatureOptions, FeatureResult, UserState } from '@app/features';
import type { MessageProducer, OutgoingMessage } from '@app/kafka';

/** Stay well below the broker's message.max.bytes (1 MB by default) per produce request. */
const MAX_REQUEST_BYTES = 512 * 1024;
/** The encoded messages' buffer: its first size, and the most it grows to (a send of more messages goes on in a second one). */
const ARENA_INITIAL_BYTES = 256 * 1024;
const ARENA_MAX_BYTES = 16 * 1024 * 1024;
/**
 * Users computed, encoded and handed to the producer between two turns of the event loop: a send
 * of every dirty user at once kept the loop (and with it Kafka, ClickHouse inserts and the other
 * partitions' batches) waiting for about a second under load.
 */
const SLICE_USERS = 4096;

/** Splits messages into chunks of at most `maxBytes` of values (at least one message each). */
export function chunkBySize(messages: OutgoingMessage[], maxBytes: number): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let size = 0;
  for (const m of messages) {
    if (current.length > 0 && size + m.value.length > maxBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(m);
    size += m.value.length;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export interface SnapshotRow {
  user_key: string;
  as_of: string;
  as_of_ms: number;
  emitted_at: string;
  event_count: number;
  views_30d: number;
  cart_adds_30d: number;
  purchases_30d: number;
  spend_30d: number;
  features_json: string;
}

export interface EmitterSettings {
  intervalMs: number;
  features: FeatureOptions;
  /** Called when computing one user's features throws (the user is skipped, not the batch). */
  onFailure: (state: UserState, err: unknown) => Promise<void>;
  /** After the broker acknowledged: per message, emitted_at − ingested_at in ms (freshness). */
  onEmitted: (lagsMs: Float64Array) => void;
  /** Users per slice of a send (default SLICE_USERS). */
  sliceUsers?: number;
}

/**
 * Coalesces `UserFeatures` per user: batches mark users dirty; every `intervalMs` one message per
 * dirty user — computed from the state at that moment, so it covers every event applied so far —
 * is produced (and stored as a snapshot). `emit` resolves once the message covering the caller's
 * events is acknowledged, which is what lets the batch commit its offsets.
 */
export class FeatureEmitter {
  private dirty = new Map<string, UserState>();
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** Each message is computed into this and encoded before the next one (no objects per message). */
  private readonly scratch = new FeatureResult();
  /**
   * The encoded messages of a send, one after another (their values are views of it): reused by
   * the next send, which begins only once every request of this one has settled. A Buffer per
   * message was ~40 MB per 300k messages outside V8's heap, which V8 answers with full garbage
   * collections (bench:aggregate).
   */
  private arena = Buffer.allocUnsafe(ARENA_INITIAL_BYTES);
  emitted = 0;

  constructor(
    private readonly producer: MessageProducer,
    private readonly topic: string,
    private readonly snapshots: BufferedWriter<SnapshotRow> | null,
    private readonly settings: EmitterSettings,
    private readonly logger: Logger,
  ) {}

  emit(states: Iterable<UserState>): Promise<void> {
    let any = false;
    for (const s of states) {
      this.dirty.set(s.userKey, s);
      any = true;
    }
    if (!any) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.timer ??= setTimeout(() => void this.flush(), this.settings.intervalMs);
    return done;
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.dirty.size === 0) return this.chain;
    const users = [...this.dirty.values()];
    const waiters = this.waiters;
    this.dirty = new Map();
    this.waiters = [];
    this.chain = this.chain
      .catch(() => undefined)
      .then(() => this.send(users))
      .then(
        () => waiters.forEach((w) => w.resolve()),
        (e: unknown) => waiters.forEach((w) => w.reject(e)),
      );
    return this.chain;
  }

  private async send(users: UserState[]): Promise<void> {
    // Only numbers wait for the acknowledgement: keeping the messages themselves (a few KB each)
    // made them survive garbage collections in bulk.
    const lags = new Float64Array(users.length);
    let emitted = 0;
    const requests: Promise<void>[] = [];
    const track = (request: Promise<void>) => {
      request.catch(() => undefined); // observed below; meanwhile not an unhandled rejection
      requests.push(request);
    };
    // The slices' values stay in the arena (one after another) until every request settled.
    let at = 0;
    const slice = this.settings.sliceUsers ?? SLICE_USERS;
    for (let from = 0; from < users.length; from += slice) {
      if (from > 0) await new Promise<void>((r) => setImmediate(r));
      const now = Date.now();
      const out: OutgoingMessage[] = [];
      const rows: SnapshotRow[] = [];
      for (let i = from; i < Math.min(users.length, from + slice); i++) {
        const s = users[i];
        let msg: UserFeatures;
        try {
          msg = s.toMessage(now, this.settings.features, this.scratch);
          let end = Codecs.UserFeatures.encodeInto(msg, this.arena, at);
          if (end < 0 && at > 0) {
            // Full: on in a larger one (the views made so far keep the old one).
            this.arena = Buffer.allocUnsafe(Math.min(ARENA_MAX_BYTES, 2 * this.arena.length));
            at = 0;
            end = Codecs.UserFeatures.encodeInto(msg, this.arena, at);
          }
          const value = end < 0 ? Codecs.UserFeatures.encode(msg) : this.arena.subarray(at, end);
          if (end >= 0) at = end;
          // No event-time record timestamp (as_of is in the message): the broker's time-based
          // retention reads it, and a backfill of 2016 data would fall outside retention at once.
          out.push({ key: s.userKey, value });
        } catch (err) {
          await this.settings.onFailure(s, err);
          continue;
        }
        lags[emitted++] = msg.emitted_at - msg.ingested_at;
        if (this.snapshots) rows.push(snapshotRow(s.userKey, msg, now));
      }
      for (const chunk of chunkBySize(out, MAX_REQUEST_BYTES)) track(this.producer.send(this.topic, chunk));
      if (this.snapshots && rows.length > 0) track(this.snapshots.write(rows));
    }
    // allSettled: no request may still read the arena when the next send reuses it.
    const settled = await Promise.allSettled(requests);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    this.emitted += emitted;
    this.settings.onEmitted(lags.subarray(0, emitted));
    this.logger.debug({ event: 'features_emitted', count: emitted }, 'user features emitted');
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

function snapshotRow(userKey: string, msg: UserFeatures, now: number): SnapshotRow {
  return {
    user_key: userKey,
    as_of: toDateTimeString(msg.as_of),
    as_of_ms: msg.as_of,
    emitted_at: toDateTimeString(now),
    event_count: msg.event_count,
    views_30d: msg.features.views_30d,
    cart_adds_30d: msg.features.cart_adds_30d,
    purchases_30d: msg.features.purchases_30d,
    spend_30d: msg.features.spend_30d,
    features_json: JSON.stringify(msg),
  };
}
