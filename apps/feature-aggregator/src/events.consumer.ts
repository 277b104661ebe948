import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { BufferedWriter, ClickHouseStore, RowBinaryEncoder } from '@app/clickhouse';
import type { AggregatorConfig } from '@app/config';
import { ALL_TOPIC_SPECS, buildDeadLetter, ClickEvent, clickEventKey, Codecs, DeadLetterReasons, Topics } from '@app/contracts';
import { ApplyOutcome, FeatureEvent, FeatureOptions, InvalidFeatureEvent, toFeatureEvent, UserState } from '@app/features';
import { BatchConsumer, IncomingMessage, KafkaBus, MessageProducer, OutgoingMessage, PendingBatch } from '@app/kafka';
import { HealthRegistry, LOGGER, Metrics } from '@app/observability';
import { encodeEventRow, EVENT_COLUMNS, markLate } from './event-row';
import { EventTranscoder } from './event-transcoder';
import { chunkBySize, FeatureEmitter, SnapshotRow } from './feature-emitter';
import { HotStates } from './hot-states';
import { AGGREGATOR_CONFIG } from './tokens';

/**
 * Events of a batch processed between two turns of the event loop (see handleBatch): about a
 * second of work. Under a backlog the emitter's flush then covers the events of several chunks,
 * and a user seen twice in them gets one UserFeatures instead of two. bench:aggregate (300k events,
 * 3 per user, interleaved), this chunk size: 51.7k events/s, 151,932 UserFeatures; 8,192 events
 * per chunk with a turn before every chunk (the emitter on time): 31.4k events/s, 300,000
 * UserFeatures, aggregator CPU 32.4 instead of 21.0 µs per event. Earlier, with 16 MiB fetches:
 * 8,192 → 22.7k/24.2k and 22.2k/26.9k events/s; 32,768 → 28.1k/28.9k and 26.6k/27.7k.
 */
const CHUNK_EVENTS = 32768;

/**
 * Rows the events writer sends at once when ClickHouse is idle (BufferedWriter idleFlushRows):
 * well below a chunk under load; a small trickle still waits for the writer's delay (fewer, larger
 * inserts: each one is a part ClickHouse must merge).
 */
const IDLE_FLUSH_ROWS = 8192;

/** What one batch produced so far: its events rows, touched users (of the current chunk), outcomes and dead letters. */
interface BatchWork {
  rows: RowBinaryEncoder;
  touched: Set<UserState>;
  counts: Record<ApplyOutcome, number>;
  dead: OutgoingMessage[];
  storedAt: number;
}

/**
 * Consumes validated events a batch per partition at a time: stores every event in ClickHouse
 * (buffered writer), applies it to the user's hot state, emits coalesced `UserFeatures`, dead-letters
 * what cannot be processed — and resolves (so the offsets are committed) only once all of that is
 * durable. A crash at any point therefore redelivers the uncommitted events, which the restored
 * state recognises as duplicates where they were already stored.
 */
@Injectable()
export class EventsConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: BatchConsumer | null = null;
  private producer: MessageProducer | null = null;
  private emitter: FeatureEmitter | null = null;
  private readonly states: HotStates;
  private readonly writer: BufferedWriter<never>;
  /** Rows of the batch being handled (the loop that fills it is synchronous). */
  private readonly rows = new RowBinaryEncoder();
  private readonly transcoder = new EventTranscoder();
  private readonly snapshots: BufferedWriter<SnapshotRow> | null;
  private readonly featureOptions: FeatureOptions;
  private readonly events;
  private readonly received;
  private readonly consumingSince;
  private sinceSet = false;
  private readonly freshness;
  private readonly hotUsers;
  private readonly restores;

  constructor(
    @Inject(AGGREGATOR_CONFIG) private readonly config: AggregatorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly bus: KafkaBus,
    private readonly store: ClickHouseStore,
    metrics: Metrics,
    private readonly health: HealthRegistry,
  ) {
    this.events = metrics.counter(
      'portrait_aggregator_events_total',
      'Events consumed by outcome: applied, duplicate, too_late (after the allowed lateness; stored only), dead_letter',
      ['outcome'],
    );
    this.received = metrics.counter(
      'portrait_aggregator_events_received_total',
      'Events handed to the aggregator by the consumer, before processing (events_total counts them once durable)',
      [],
    );
    this.consumingSince = metrics.gauge(
      'portrait_aggregator_consuming_since_timestamp_seconds',
      'When the first batch after the latest partition assignment arrived (unix time); 0 until then',
    );
    this.freshness = metrics.histogram(
      'portrait_aggregator_ingest_to_emit_seconds',
      'From the ingest time of the newest event of a UserFeatures message to its emission',
      [],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    );
    this.hotUsers = metrics.gauge('portrait_aggregator_hot_users', 'Per-user states held in memory');
    this.restores = metrics.counter('portrait_aggregator_state_restores_total', 'Users whose state was restored from ClickHouse');
    // Per insert: ClickHouse's cost grows with the number of inserts (a part each, merged later).
    const insertRows = metrics.histogram(
      'portrait_aggregator_events_insert_rows',
      'Rows per insert into the events table',
      [],
      [100, 1000, 4096, 8192, 16384, 32768, 65536, 131072],
    );
    const insertSeconds = metrics.histogram(
      'portrait_aggregator_events_insert_seconds',
      'Duration of each insert into the events table, from sending it to ClickHouse acknowledging it',
      [],
      [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    );
    this.featureOptions = { halfLifeMs: config.AGGREGATOR_SCORE_HALF_LIFE_MS, topN: config.AGGREGATOR_TOP_N };
    this.states = new HotStates(store, config.AGGREGATOR_MAX_USERS);
    this.writer = new BufferedWriter<never>(store, {
      table: 'events',
      rowBinaryColumns: EVENT_COLUMNS,
      maxRows: config.AGGREGATOR_WRITER_MAX_ROWS,
      maxDelayMs: config.AGGREGATOR_WRITER_MAX_DELAY_MS,
      // A chunk's rows (see CHUNK_EVENTS) go as soon as ClickHouse is done with the previous ones:
      // the writer's timer would only fire after the next chunk.
      idleFlushRows: Math.min(IDLE_FLUSH_ROWS, config.AGGREGATOR_WRITER_MAX_ROWS),
      onInserted: (rows, ms) => {
        insertRows.observe({}, rows);
        insertSeconds.observe({}, ms / 1000);
      },
    });
    this.snapshots = config.AGGREGATOR_STORE_SNAPSHOTS
      ? new BufferedWriter<SnapshotRow>(store, { table: 'user_features', maxRows: 20000, maxDelayMs: config.AGGREGATOR_WRITER_MAX_DELAY_MS })
      : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.ensureTopics(ALL_TOPIC_SPECS);
    const producer = await this.bus.producer();
    this.producer = producer;
    this.emitter = new FeatureEmitter(
      producer,
      this.bus.topic(Topics.UserFeatures),
      this.snapshots,
      {
        intervalMs: this.config.AGGREGATOR_EMIT_INTERVAL_MS,
        features: this.featureOptions,
        onFailure: (s, err) => this.deadLetterUser(s, err),
        onEmitted: (lagsMs) => {
          for (let i = 0; i < lagsMs.length; i++) this.freshness.observe(Math.max(0, lagsMs[i]) / 1000);
        },
      },
      this.logger,
    );
    this.consumer = this.bus.consumer({
      groupId: 'feature-aggregator',
      topics: [Topics.ClickstreamEvents],
      concurrency: this.config.AGGREGATOR_PARTITION_CONCURRENCY,
      maxBytesPerPartition: this.config.AGGREGATOR_FETCH_MAX_BYTES_PER_PARTITION,
      maxPendingBatches: this.config.AGGREGATOR_PENDING_BATCHES,
      handler: (messages) => this.handleBatch(messages),
      onAssignment: (assigned) => {
        this.sinceSet = false;
        this.consumingSince.set({}, 0);
        this.states.onAssignment(assigned);
      },
    });
    const consumer = this.consumer;
    this.health.register('events_consumer', () => consumer.health());
    this.health.register('clickhouse', async () => ({ ok: await this.store.ping() }));
    await consumer.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.disconnect();
    await this.emitter?.close();
    await this.writer.close();
    await this.snapshots?.close();
  }

  /** Exposed for tests and the bench. */
  get hotStates(): HotStates {
    return this.states;
  }

  /** One decoded event into the batch's rows and its user's state; what cannot be processed is dead-lettered. */
  private applyEvent(batch: BatchWork, m: IncomingMessage, e: ClickEvent, key: string, state: UserState): void {
    const mark = batch.rows.byteLength;
    try {
      const fe = toFeatureEvent(e);
      // Encoded before the state changes: an event ClickHouse cannot take is dead-lettered
      // without having been counted.
      const lateAt = encodeEventRow(batch.rows, e, key, m.partition, m.offset, batch.storedAt);
      this.applyFeatureEvent(batch, state, fe, lateAt);
    } catch (err) {
      this.rejectEvent(batch, m, mark, err);
    }
  }

  /** Like applyEvent for an event the transcoder has just written as the row starting at `mark`. */
  private applyTranscoded(batch: BatchWork, m: IncomingMessage, mark: number, state: UserState): void {
    try {
      this.applyFeatureEvent(batch, state, toFeatureEvent(this.transcoder.event), this.transcoder.lateAt);
    } catch (err) {
      this.rejectEvent(batch, m, mark, err);
    }
  }

  private applyFeatureEvent(batch: BatchWork, state: UserState, fe: FeatureEvent, lateAt: number): void {
    const outcome = state.apply(fe, this.config.AGGREGATOR_ALLOWED_LATENESS_MS);
    batch.counts[outcome]++;
    if (outcome === 'too_late') markLate(batch.rows, lateAt);
    // Duplicates too: a retried batch must still emit what its first attempt could not.
    else batch.touched.add(state);
    batch.rows.endRow();
  }

  private rejectEvent(batch: BatchWork, m: IncomingMessage, mark: number, err: unknown): void {
    batch.rows.truncate(mark);
    const reason = err instanceof InvalidFeatureEvent ? `${DeadLetterReasons.Validation}:${err.reasonCode}` : DeadLetterReasons.Processing;
    batch.dead.push(this.deadLetter(m, err, reason, 'aggregate'));
  }

  private deadLetter(m: IncomingMessage, error: unknown, reasonCode: string, stage: string): OutgoingMessage {
    return {
      key: m.key,
      value: Codecs.DeadLetter.encode(
        buildDeadLetter({
          payload: m.value ?? Buffer.alloc(0),
          error,
          reasonCode,
          stage,
          service: 'feature-aggregator',
          source: { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, headers: m.headers },
        }),
      ),
    };
  }

  private async deadLetterUser(s: UserState, err: unknown): Promise<void> {
    this.logger.error({ event: 'features_failed', user_key: s.userKey, err }, 'computing features failed; user skipped');
    await this.producer!.send(this.bus.topic(Topics.ClickstreamDlq), [
      {
        key: s.userKey,
        value: Codecs.DeadLetter.encode(
          buildDeadLetter({
            payload: Buffer.from(s.userKey),
            error: err,
            reasonCode: DeadLetterReasons.Processing,
            stage: 'features',
            service: 'feature-aggregator',
            source: { key: s.userKey },
          }),
        ),
      },
    ]);
  }

  /**
   * Hands the rows and users gathered so far to the writer and the emitter, and starts a new set of
   * users. The shared encoder is emptied here, before any await (other partitions' batches use it
   * too). The effects are awaited with the whole batch; meanwhile a failure is not an unhandled
   * rejection.
   */
  private handOver(batch: BatchWork, effects: Promise<void>[]): void {
    const rowCount = batch.rows.rows;
    for (const effect of [this.writer.writeRowBinary(batch.rows.take(), rowCount), this.emitter!.emit(batch.touched)]) {
      effect.catch(() => undefined);
      effects.push(effect);
    }
    batch.touched = new Set<UserState>();
  }

  /**
   * Applies a batch and hands its effects over; resolves with them pending (BatchConsumer commits
   * once they are durable and fetches on meanwhile), or with AGGREGATOR_PENDING_BATCHES=0 once
   * they are durable.
   */
  private async handleBatch(messages: IncomingMessage[]): Promise<PendingBatch | void> {
    const partition = messages[0].partition;
    this.received.inc({}, messages.length);
    if (!this.sinceSet) {
      this.sinceSet = true;
      this.consumingSince.set({}, Date.now() / 1000);
    }
    // The batch's users from the record keys (the ingestor keys events by clickEventKey): their
    // states are ready before any event is decoded, so each event is decoded, applied and dropped
    // in turn — a batch of decoded events waiting together survived garbage collections and made
    // every scavenge copy them. An event whose user differs from its record key waits for a second
    // lookup below.
    const keys = new Set<string>();
    const keyStrings = new Array<string>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const raw = messages[i].raw;
      if (raw) keyStrings[i] = raw.keyStart < 0 ? '' : raw.bytes.toString('utf8', raw.keyStart, raw.keyEnd);
      else keyStrings[i] = messages[i].key?.toString('utf8') ?? '';
      if (raw ? raw.keyStart >= 0 : messages[i].key !== null) keys.add(keyStrings[i]);
    }
    const states = await this.states.acquire(partition, keys);
    const held = [states];
    let durable: Promise<void>;
    try {
      const batch: BatchWork = {
        rows: this.rows,
        touched: new Set<UserState>(),
        counts: { applied: 0, duplicate: 0, too_late: 0 },
        dead: [],
        storedAt: Date.now(),
      };
      let unkeyed: { m: IncomingMessage; e: ClickEvent; key: string }[] | null = null;
      // A large batch (a consumer catching up fetches megabytes per partition) is handled in
      // chunks: each chunk's rows go to the writer and its users to the emitter at once, so
      // ClickHouse and Kafka work on them while the next chunk is processed, and the event loop
      // (heartbeats, health, metrics, acks) runs between chunks. The offsets are still committed
      // only after every chunk's effects are durable (the awaits below).
      const effects: Promise<void>[] = [];
      for (let from = 0; from < messages.length; from += CHUNK_EVENTS) {
        if (from > 0) await new Promise<void>((r) => setImmediate(r));
        const to = Math.min(messages.length, from + CHUNK_EVENTS);
        const rows = batch.rows;
        rows.reset();
        for (let i = from; i < to; i++) {
          const m = messages[i];
          // Most events: their row copied from the Avro bytes, only the features' fields decoded
          // (read in the fetched record batch where the consumer gives it: no Buffer per event).
          const mark = rows.byteLength;
          const raw = m.raw;
          const taken = raw
            ? raw.valueStart >= 0 &&
              this.transcoder.transcode(raw.bytes, rows, m.partition, raw.offsetNumber, batch.storedAt, keyStrings[i], raw.valueStart, raw.valueEnd)
            : m.value !== null && this.transcoder.transcode(m.value, rows, m.partition, m.offset, batch.storedAt, keyStrings[i]);
          if (taken) {
            const state = states.get(this.transcoder.key);
            if (state) {
              this.applyTranscoded(batch, m, mark, state);
              continue;
            }
            rows.truncate(mark); // a user the record key did not name: the general path below
          }
          const r = m.value ? Codecs.ClickEvent.tryDecode(m.value) : null;
          if (!r?.ok) {
            batch.dead.push(this.deadLetter(m, r ? r.error : 'empty message value', r ? r.reasonCode : 'empty', 'decode'));
            continue;
          }
          const key = clickEventKey(r.value);
          const state = states.get(key);
          if (state) this.applyEvent(batch, m, r.value, key, state);
          else (unkeyed ??= []).push({ m, e: r.value, key });
        }
        this.handOver(batch, effects);
      }
      if (unkeyed !== null) {
        const more = await this.states.acquire(partition, unkeyed.map((u) => u.key));
        held.push(more);
        batch.rows.reset();
        for (const { m, e, key } of unkeyed) this.applyEvent(batch, m, e, key, more.get(key)!);
        this.handOver(batch, effects);
      }
      durable = this.whenDurable(partition, batch, effects);
    } catch (err) {
      this.release(held);
      throw err;
    }
    // The states stay pinned until their events are durable: one evicted before would be
    // restored from ClickHouse without them.
    const settled = durable.finally(() => this.release(held));
    if (this.config.AGGREGATOR_PENDING_BATCHES === 0) return settled;
    return { durable: settled };
  }

  /** Resolves once the batch's rows, UserFeatures and dead letters are durable; then counts its events. */
  private async whenDurable(partition: number, batch: BatchWork, effects: Promise<void>[]): Promise<void> {
    const { counts, dead } = batch;
    await Promise.all([
      ...effects,
      ...chunkBySize(dead, 512 * 1024).map((chunk) => this.producer!.send(this.bus.topic(Topics.ClickstreamDlq), chunk)),
    ]);
    this.events.inc({ outcome: 'applied' }, counts.applied);
    this.events.inc({ outcome: 'duplicate' }, counts.duplicate);
    this.events.inc({ outcome: 'too_late' }, counts.too_late);
    this.events.inc({ outcome: 'dead_letter' }, dead.length);
    if (dead.length > 0) this.logger.warn({ event: 'dead_letters', partition, count: dead.length }, 'events dead-lettered');
  }

  private release(held: Map<string, UserState>[]): void {
    for (const h of held) this.states.release(h.values());
    this.hotUsers.set({}, this.states.size);
    this.restores.inc({}, this.states.restores);
    this.states.restores = 0;
  }
}
