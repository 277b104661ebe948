import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { FetchedRecord } from './record-decoder';
import type { IncomingMessage, PartitionRef } from './types';

export interface BatchContext {
  topic: string;
  partition: number;
  /** Call during long work so the group does not evict us. */
  heartbeat(): Promise<void>;
  /** True once a rebalance took this partition away: stop and do not produce side effects. */
  isStale(): boolean;
}

/**
 * What a handler may resolve with instead of waiting for its effects: the batch is processed (its
 * effects handed on), and `durable` settles once they are durable.
 */
export interface PendingBatch {
  durable: Promise<void>;
}

/**
 * Processes one partition's batch. Either resolve only when every effect of the batch is durable
 * (rows acknowledged by ClickHouse, messages acknowledged by Kafka, dead letters written) — the
 * offsets are committed after that — or resolve with a {@link PendingBatch} as soon as the effects
 * are handed on: the consumer then fetches and hands over the partition's next batches while
 * those effects settle, and commits each batch's offsets once its `durable` and every earlier one
 * of the partition resolved. When a `durable` rejects, nothing from that batch on is committed:
 * the partition is rewound to it and redelivered after a back-off, so the handler sees again
 * records it already processed (and must treat them as duplicates, as after a crash).
 *
 * Throwing means "transient failure": the same batch is retried with back-off — so a record that
 * can never succeed must be dead-lettered by the handler, not thrown, or it stalls the partition.
 */
export type BatchHandler = (messages: IncomingMessage[], ctx: BatchContext) => Promise<void | PendingBatch>;

export interface BatchConsumerOptions {
  groupId: string;
  topics: string[];
  handler: BatchHandler;
  fromBeginning?: boolean;
  /** Partitions processed in parallel by this process. */
  concurrency?: number;
  maxBytesPerPartition?: number;
  maxWaitTimeMs?: number;
  sessionTimeoutMs?: number;
  /** Back-off bounds for transient handler failures. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Called after each (re)join with the partitions this member now owns. */
  onAssignment?: (assigned: PartitionRef[]) => void | Promise<void>;
  /** Called when a rebalance starts (partitions may be taken away). */
  onRebalance?: () => void | Promise<void>;
  /**
   * Batches of one partition whose effects may be pending at once (handlers that resolve with a
   * PendingBatch); a further batch of the partition waits for the oldest to settle. Default 2.
   */
  maxPendingBatches?: number;
}

/** One partition's batches between hand-over and commit. */
interface PartitionPipeline {
  topic: string;
  partition: number;
  /**
   * Handed-over batches waiting for their commit, oldest first: each settles after its commit, or
   * once it is given up (a failure, a rebalance).
   */
  pending: Promise<void>[];
  /** Commits in offset order: each batch's link waits for the previous one. */
  tail: Promise<void>;
  /** Bumped when pending batches are given up (a failed batch, a rebalance): their links do nothing. */
  epoch: number;
  /** After a failed batch: not before this time is the partition handled again. */
  retryAt: number;
  delay: number;
}

/**
 * Batch-at-a-time consumer with at-least-once semantics: offsets are committed only after the
 * batch's effects are durable (the handler resolved, or its PendingBatch did), in order per
 * partition. Transient failures pause the partition with exponential back-off (heartbeating
 * meanwhile) instead of crashing the consumer.
 */
export class BatchConsumer {
  private readonly consumer: Consumer;
  private running = false;
  private crashed: string | null = null;
  private lastProgressAt = Date.now();
  private failingSince: number | null = null;
  private lastError: string | null = null;
  private assigned: PartitionRef[] = [];
  private processed = 0;
  private readonly pipelines = new Map<string, PartitionPipeline>();
  /** While disconnecting: batches are no longer handed to the handler. */
  private draining = false;

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly options: BatchConsumerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30000,
      heartbeatInterval: 3000,
      rebalanceTimeout: 60000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
      maxWaitTimeInMs: options.maxWaitTimeMs ?? 100,
      allowAutoTopicCreation: false,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10000 },
    });
    const { GROUP_JOIN, CRASH, REBALANCING } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (e) => {
      // kafkajs fetches every partition from its committed offset after a (re)join: pending
      // batches are redelivered, their late commits must not move an offset another member owns.
      this.abandonPending();
      this.assigned = Object.entries(e.payload.memberAssignment).flatMap(([topic, parts]) =>
        parts.map((partition) => ({ topic, partition })),
      );
      this.logger.info({ event: 'consumer_assigned', group: options.groupId, assigned: this.assigned }, 'partitions assigned');
      void Promise.resolve(options.onAssignment?.(this.assigned)).catch((err: unknown) =>
        this.logger.error({ event: 'on_assignment_failed', err }, 'assignment callback failed'),
      );
    });
    this.consumer.on(REBALANCING, () => {
      this.abandonPending();
      void Promise.resolve(options.onRebalance?.()).catch((err: unknown) =>
        this.logger.error({ event: 'on_rebalance_failed', err }, 'rebalance callback failed'),
      );
    });
    this.consumer.on(CRASH, (e) => {
      const msg = e.payload.error?.message ?? 'unknown';
      this.logger.error({ event: 'consumer_crash', group: options.groupId, restart: e.payload.restart, err: e.payload.error }, msg);
      if (!e.payload.restart) {
        this.crashed = msg;
        // kafkajs gives up on non-retriable errors (e.g. a commit after the session expired
        // under load: "coordinator is not aware of this member") and leaves the process up but
        // consuming nothing. Rejoin ourselves; uncommitted batches are redelivered, and every
        // handler's effects are idempotent.
        if (this.running) void this.restartAfterCrash();
      }
    });
  }

  get assignment(): readonly PartitionRef[] {
    return this.assigned;
  }

  get messagesProcessed(): number {
    return this.processed;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.connectAndRun();
  }

  /** Consumer restarts after crashes kafkajs did not recover from itself. */
  restarts = 0;
  private restarting = false;

  private async restartAfterCrash(): Promise<void> {
    if (this.restarting) return;
    this.restarting = true;
    let delay = this.options.retryInitialMs ?? 1000;
    try {
      while (this.running && this.crashed) {
        await new Promise((r) => setTimeout(r, delay));
        if (!this.running) return;
        try {
          await this.consumer.disconnect();
        } catch {
          // already down
        }
        try {
          await this.connectAndRun();
          this.restarts++;
          this.crashed = null;
          this.logger.warn({ event: 'consumer_restarted', group: this.options.groupId, restarts: this.restarts }, 'consumer rejoined after a crash');
        } catch (err) {
          this.logger.error({ event: 'consumer_restart_failed', group: this.options.groupId, err }, 'consumer restart failed, retrying');
          delay = Math.min(delay * 2, this.options.retryMaxMs ?? 30000);
        }
      }
    } finally {
      this.restarting = false;
    }
  }

  private async connectAndRun(): Promise<void> {
    await this.consumer.connect();
    for (const topic of this.options.topics) {
      await this.consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
    }
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? 3,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** Health for readiness: not crashed, and not stuck failing the same batch for long. */
  health(stallMs = 60000): { ok: boolean; detail: string } {
    if (!this.running) return { ok: false, detail: 'not running' };
    if (this.crashed) return { ok: false, detail: `crashed: ${this.crashed}` };
    if (this.failingSince !== null && Date.now() - this.failingSince > stallMs) {
      return { ok: false, detail: `retrying a batch for ${Date.now() - this.failingSince} ms: ${this.lastError}` };
    }
    return { ok: true, detail: `processed ${this.processed}, last progress ${Date.now() - this.lastProgressAt} ms ago` };
  }

  async disconnect(): Promise<void> {
    // Let pending batches commit before leaving the group (a restart would redeliver them):
    // nothing new is handed over meanwhile, and their effects settle on their own timers.
    this.draining = true;
    try {
      this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
    } catch {
      // not running
    }
    await this.settlePending(30000);
    this.running = false;
    try {
      await this.consumer.disconnect(); // stops fetching and waits for the in-flight batch
    } catch (e) {
      this.logger.warn({ event: 'consumer_disconnect_failed', err: e }, 'consumer disconnect failed');
    }
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const heartbeat = () => payload.heartbeat();
    const isRunning = () => payload.isRunning();
    const isStale = () => payload.isStale();
    const pipe = this.pipeline(batch.topic, batch.partition);
    // Room for one more pending batch of this partition, and the back-off after a failed one.
    const maxPending = Math.max(1, this.options.maxPendingBatches ?? 2);
    while (pipe.pending.length >= maxPending) await pipe.pending[0];
    if (Date.now() < pipe.retryAt) await this.pause(pipe.retryAt - Date.now(), heartbeat, isRunning, isStale);
    // Not resolved, so fetched again: by whoever owns the partition after a rebalance, or from the
    // failed batch once a rewind (a seek, which also makes kafkajs call the batches fetched before
    // it stale) takes effect.
    if (this.draining || !isRunning() || isStale()) return;
    const epoch = pipe.epoch;
    const messages: IncomingMessage[] = batch.messages.map((m) =>
      m instanceof FetchedRecord
        ? new FetchedMessage(batch.topic, batch.partition, m)
        : {
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key ?? null,
            value: m.value ?? null,
            headers: decodeHeaders(m.headers),
            timestamp: Number(m.timestamp),
          },
    );
    const ctx: BatchContext = { topic: batch.topic, partition: batch.partition, heartbeat, isStale };
    let delay = this.nextDelay(0);
    let result: void | PendingBatch;
    for (;;) {
      try {
        result = await this.options.handler(messages, ctx);
        break;
      } catch (err) {
        if (!isRunning() || isStale() || !this.running) throw err; // let the group re-deliver to the new owner
        this.failingSince ??= Date.now();
        this.lastError = err instanceof Error ? err.message : String(err);
        this.logger.warn(
          { event: 'batch_retry', topic: batch.topic, partition: batch.partition, first_offset: batch.firstOffset(), delay_ms: delay, err },
          'batch failed, retrying after back-off',
        );
        await this.pause(delay, heartbeat, isRunning, isStale);
        delay = this.nextDelay(delay);
      }
    }
    const last = batch.lastOffset();
    const next = (BigInt(last) + 1n).toString();
    if (result) {
      // Handed over: fetching goes on while the effects settle (commit in settleBatch).
      result.durable.catch(() => undefined); // observed in settleBatch, possibly later
      if (epoch !== pipe.epoch) return; // given up meanwhile: the partition is being rewound or reassigned
      const { durable } = result;
      const first = messages[0].offset;
      const settled = (pipe.tail = pipe.tail
        .then(() => this.settleBatch(pipe, epoch, durable, first, next, messages.length))
        .catch((err: unknown) => this.logger.error({ event: 'settle_failed', err }, 'settling a batch failed')));
      pipe.pending.push(settled);
      void settled.then(() => {
        pipe.pending = pipe.pending.filter((p) => p !== settled);
      });
      payload.resolveOffset(last);
      await heartbeat();
      return;
    }
    this.failingSince = null;
    payload.resolveOffset(last);
    await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
    this.processed += messages.length;
    this.lastProgressAt = Date.now();
    await heartbeat();
  }

  /** The back-off after a failed batch: the initial delay after none (0), then doubling up to the maximum. */
  private nextDelay(previous: number): number {
    return previous === 0 ? (this.options.retryInitialMs ?? 250) : Math.min(previous * 2, this.options.retryMaxMs ?? 30000);
  }

  private pipeline(topic: string, partition: number): PartitionPipeline {
    const key = `${topic}|${partition}`;
    let pipe = this.pipelines.get(key);
    if (!pipe) {
      pipe = { topic, partition, pending: [], tail: Promise.resolve(), epoch: 0, retryAt: 0, delay: 0 };
      this.pipelines.set(key, pipe);
    }
    return pipe;
  }

  /**
   * A pending batch's turn (the earlier ones of its partition are committed or given up): commit
   * once its effects are durable. On failure the partition is rewound to this batch — kafkajs
   * refetches it at the next fetch — and the later pending batches are given up with it.
   */
  private async settleBatch(pipe: PartitionPipeline, epoch: number, durable: Promise<void>, first: string, next: string, count: number): Promise<void> {
    if (epoch !== pipe.epoch) return;
    try {
      await durable;
    } catch (err) {
      if (epoch !== pipe.epoch) return;
      pipe.epoch++;
      pipe.delay = this.nextDelay(pipe.delay);
      pipe.retryAt = Date.now() + pipe.delay;
      this.failingSince ??= Date.now();
      this.lastError = err instanceof Error ? err.message : String(err);
      this.logger.warn(
        { event: 'batch_retry', topic: pipe.topic, partition: pipe.partition, first_offset: first, delay_ms: pipe.delay, err },
        'batch effects failed, redelivering the partition from this batch after back-off',
      );
      if (!this.running || this.draining) return;
      try {
        this.consumer.seek({ topic: pipe.topic, partition: pipe.partition, offset: first });
      } catch (e) {
        // Not running any more (a crash or a stop): the group redelivers from the last commit.
        this.logger.warn({ event: 'rewind_failed', topic: pipe.topic, partition: pipe.partition, err: e }, 'could not rewind the partition');
      }
      return;
    }
    if (epoch !== pipe.epoch) return;
    try {
      await this.consumer.commitOffsets([{ topic: pipe.topic, partition: pipe.partition, offset: next }]);
    } catch (err) {
      // A rebalance or a lost coordinator: the next commit of the partition covers this one, or
      // its new owner starts from the last committed offset (duplicates, never a loss).
      this.logger.warn({ event: 'commit_failed', topic: pipe.topic, partition: pipe.partition, offset: next, err }, 'offset commit failed');
      return;
    }
    pipe.delay = 0;
    this.failingSince = null;
    this.processed += count;
    this.lastProgressAt = Date.now();
  }

  /** Gives up every pending batch (their effects may still land; their offsets are not committed). */
  private abandonPending(): void {
    for (const pipe of this.pipelines.values()) pipe.epoch++;
  }

  /** Waits (at most `ms`) until every pending batch is committed or given up. */
  private async settlePending(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const timeout = new Promise<void>((r) => {
      timer = setTimeout(() => {
        timedOut = true;
        r();
      }, ms);
    });
    // Again while batches handed over meanwhile (one in the handler when draining began) add links.
    for (;;) {
      const tails = [...this.pipelines.values()].map((p) => p.tail);
      await Promise.race([Promise.all(tails), timeout]);
      if (timedOut || [...this.pipelines.values()].every((p, i) => p.tail === tails[i])) break;
    }
    clearTimeout(timer);
  }

  private async pause(ms: number, heartbeat: () => Promise<void>, isRunning: () => boolean, isStale: () => boolean) {
    const until = Date.now() + ms;
    while (Date.now() < until && isRunning() && !isStale() && this.running) {
      await new Promise((r) => setTimeout(r, Math.min(1000, until - Date.now())));
      try {
        await heartbeat();
      } catch (e) {
        this.logger.warn({ event: 'heartbeat_failed', err: e }, 'heartbeat failed during back-off');
        return;
      }
    }
  }
}

/**
 * The IncomingMessage of a FetchedRecord (kafkajs-patches.ts): one small object over the record,
 * whose key and value are views made when read (hot paths read `raw` instead).
 */
export class FetchedMessage implements IncomingMessage {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly raw: FetchedRecord,
  ) {}

  get offset(): string {
    return this.raw.offset;
  }

  get key(): Buffer | null {
    return this.raw.key;
  }

  get value(): Buffer | null {
    return this.raw.value;
  }

  get headers(): Record<string, string> {
    return NO_HEADERS;
  }

  get timestamp(): number {
    return this.raw.timestampNumber;
  }
}

function decodeHeaders(h: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined) {
  // for-in and a shared empty object: most records have no headers, and Object.entries plus a
  // fresh object per record were a visible share of the consumers' allocations.
  let out: Record<string, string> | null = null;
  if (h) {
    for (const k in h) {
      const v = h[k];
      if (v === undefined) continue;
      const first = Array.isArray(v) ? v[0] : v;
      if (first !== undefined) (out ??= {})[k] = first.toString();
    }
  }
  return out ?? NO_HEADERS;
}

/** The headers of every record without any (read-only). */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
