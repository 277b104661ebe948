import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import { BufferedWriter, ClickHouseStore, toDateTimeString } from '@app/clickhouse';
import type { AggregatorConfig } from '@app/config';
import { ALL_TOPIC_SPECS, buildDeadLetter, clickEventKey, Codecs, Topics } from '@app/contracts';
import { toFeatureEvent, UserEvents } from '@app/features';
import { BatchConsumer, IncomingMessage, KafkaBus, MessageProducer, OutgoingMessage } from '@app/kafka';
import { HealthRegistry, LOGGER, Metrics } from '@app/observability';
import { EventRow, toEventRow } from './event-row';
import { AGGREGATOR_CONFIG } from './tokens';

/**
 * Consumes validated events in batches: stores every event in ClickHouse, updates the per-user
 * rolling state, emits `UserFeatures` for the users the batch touched, and only then lets the
 * consumer commit the batch's offsets.
 */
@Injectable()
export class EventsConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: BatchConsumer | null = null;
  private producer: MessageProducer | null = null;
  private readonly users = new Map<string, UserEvents>();
  private readonly writer: BufferedWriter<EventRow>;
  private readonly eventsCounter;

  constructor(
    @Inject(AGGREGATOR_CONFIG) readonly config: AggregatorConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly bus: KafkaBus,
    private readonly store: ClickHouseStore,
    metrics: Metrics,
    private readonly health: HealthRegistry,
  ) {
    this.eventsCounter = metrics.counter('portrait_aggregator_events_total', 'Events consumed by outcome', ['outcome']);
    this.writer = new BufferedWriter<EventRow>(store, { table: 'events', maxRows: 50000, maxDelayMs: 50 });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.ensureTopics(ALL_TOPIC_SPECS);
    this.producer = await this.bus.producer();
    this.consumer = this.bus.consumer({
      groupId: 'feature-aggregator',
      topics: [Topics.ClickstreamEvents],
      handler: (messages) => this.handleBatch(messages),
    });
    const consumer = this.consumer;
    this.health.register('events_consumer', () => consumer.health());
    this.health.register('clickhouse', async () => ({ ok: await this.store.ping() }));
    await consumer.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.consumer?.disconnect();
    await this.writer.close();
  }

  private async handleBatch(messages: IncomingMessage[]): Promise<void> {
    const rows: EventRow[] = [];
    const dead: OutgoingMessage[] = [];
    const touched = new Set<UserEvents>();
    for (const m of messages) {
      const decoded = m.value ? Codecs.ClickEvent.tryDecode(m.value) : null;
      if (!decoded?.ok) {
        dead.push({
          value: Codecs.DeadLetter.encode(
            buildDeadLetter({
              payload: m.value ?? Buffer.alloc(0),
              error: decoded ? decoded.error : 'empty message value',
              reasonCode: decoded ? decoded.reasonCode : 'empty',
              stage: 'feature-aggregator',
              service: 'feature-aggregator',
              source: { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, headers: m.headers },
            }),
          ),
        });
        continue;
      }
      const e = decoded.value;
      const userKey = clickEventKey(e);
      rows.push(toEventRow(e, userKey, m.partition, m.offset, false));
      let state = this.users.get(userKey);
      if (!state) {
        state = new UserEvents(userKey);
        this.users.set(userKey, state);
      }
      if (state.add(toFeatureEvent(e))) touched.add(state);
    }
    await this.writer.write(rows);
    const now = Date.now();
    const out: OutgoingMessage[] = [];
    const snapshots = [];
    for (const u of touched) {
      u.prune();
      const msg = u.toMessage(now);
      out.push({ key: u.userId, value: Codecs.UserFeatures.encode(msg), timestamp: msg.as_of });
      snapshots.push({
        user_key: u.userId,
        as_of: toDateTimeString(msg.as_of),
        as_of_ms: msg.as_of,
        emitted_at: toDateTimeString(now),
        event_count: msg.event_count,
        views_30d: msg.features.views_30d,
        cart_adds_30d: msg.features.cart_adds_30d,
        purchases_30d: msg.features.purchases_30d,
        spend_30d: msg.features.spend_30d,
        features_json: JSON.stringify(msg),
      });
    }
    await this.store.insert('user_features', snapshots);
    await this.producer!.sendMany([
      { topic: this.bus.topic(Topics.UserFeatures), messages: out },
      { topic: this.bus.topic(Topics.ClickstreamDlq), messages: dead },
    ]);
    this.eventsCounter.inc({ outcome: 'stored' }, rows.length);
    this.eventsCounter.inc({ outcome: 'dead_letter' }, dead.length);
    if (dead.length > 0) this.logger.warn({ event: 'dead_letters', count: dead.length }, 'undecodable events dead-lettered');
  }
}
