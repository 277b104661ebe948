import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import type { IngestorConfig } from '@app/config';
import { Topics } from '@app/contracts';
import { BatchConsumer, IncomingMessage, KafkaBus } from '@app/kafka';
import { HealthRegistry, LOGGER } from '@app/observability';
import { sendChunked } from './chunked-send';
import { EventPipeline } from './event-pipeline.service';
import { IntakeBatch, IntakeCore } from './intake-core.service';
import { INGESTOR_CONFIG } from './tokens';

export const RAW_CONSUMER_GROUP = 'ingestor-raw';

/**
 * The Kafka intake: consumes Avro ClickEvents from clickstream.raw.v1 in batches, applies the same
 * validation as HTTP, and publishes to clickstream.events.v1 plus dead letters (with the record's
 * topic/partition/offset) in one acknowledged request; BatchConsumer commits the offsets only
 * after that. A failed send throws, so the batch is retried (never dropped); poison records are
 * dead-lettered, never thrown.
 */
@Injectable()
export class RawIntakeConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: BatchConsumer | null = null;

  constructor(
    @Inject(INGESTOR_CONFIG) private readonly config: IngestorConfig,
    private readonly bus: KafkaBus,
    private readonly core: IntakeCore,
    private readonly pipeline: EventPipeline,
    private readonly health: HealthRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.INGEST_RAW_CONSUMER) return;
    this.health.register('raw_consumer', () => this.consumer?.health() ?? { ok: false, detail: 'not started' });
    await this.pipeline.whenReady(); // topics exist and the producer is connected
    this.consumer = this.bus.consumer({
      groupId: RAW_CONSUMER_GROUP,
      topics: [Topics.ClickstreamRaw],
      concurrency: this.config.INGEST_RAW_CONCURRENCY,
      handler: (messages) => this.handle(messages),
    });
    await this.consumer.start();
    this.logger.info({ event: 'raw_consumer_started', group: RAW_CONSUMER_GROUP }, 'consuming raw clickstream');
  }

  async onModuleDestroy(): Promise<void> {
    // Stop consuming (and finish the in-flight batch) before the producer goes away.
    await this.consumer?.disconnect();
  }

  async handle(messages: IncomingMessage[]): Promise<void> {
    const producer = this.pipeline.kafkaProducer;
    if (!producer?.isConnected) throw new Error('Kafka producer not connected'); // retried by BatchConsumer
    const batch = new IntakeBatch('kafka', Date.now(), messages.length);
    for (let i = 0; i < messages.length; i++) this.core.acceptAvro(batch, i, messages[i].value, messages[i]);
    await sendChunked(producer, [
      { topic: this.bus.topic(Topics.ClickstreamEvents), messages: batch.events },
      { topic: this.bus.topic(Topics.ClickstreamDlq), messages: batch.deadLetters },
    ]);
    this.core.committed(batch);
  }
}
