import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { IngestorConfig } from '@app/config';
import { ALL_TOPIC_SPECS, Topics } from '@app/contracts';
import { KafkaBus, MessageProducer } from '@app/kafka';
import { HealthRegistry, Metrics } from '@app/observability';
import { IntakeBatch, IntakeCore } from './intake-core.service';
import { ProduceCoalescer, ProducerBusyError } from './produce-coalescer';
import { INGESTOR_CONFIG } from './tokens';

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  rejected: { index: number; reason: string }[];
}

/** Kafka not reachable or not acknowledging: the HTTP layer answers 503 with Retry-After. */
export class IntakeUnavailableError extends Error {}
/** The producer budget is full: the HTTP layer answers 429 with Retry-After. */
export class IntakeBusyError extends Error {}

/**
 * The HTTP intake: validates a request's events, publishes the valid ones (keyed by user) and
 * dead-letters the rest, through one shared producer whose sends are coalesced across requests.
 * Also owns the producer and topic creation for the whole service.
 */
@Injectable()
export class EventPipeline implements OnApplicationBootstrap {
  private producer: MessageProducer | null = null;
  private readonly coalescer: ProduceCoalescer;
  private readonly eventsTopic: string;
  private readonly dlqTopic: string;
  private readonly inflight;
  private readonly markReady = deferred();
  private readonly ready = this.markReady.promise;

  constructor(
    @Inject(INGESTOR_CONFIG) readonly config: IngestorConfig,
    private readonly bus: KafkaBus,
    private readonly core: IntakeCore,
    metrics: Metrics,
    private readonly health: HealthRegistry,
  ) {
    this.eventsTopic = bus.topic(Topics.ClickstreamEvents);
    this.dlqTopic = bus.topic(Topics.ClickstreamDlq);
    this.coalescer = new ProduceCoalescer(() => (this.producer?.isConnected ? this.producer : null), {
      maxInFlightEvents: config.INGEST_MAX_INFLIGHT_EVENTS,
      lingerMs: config.INGEST_LINGER_MS,
      maxBatchMessages: config.INGEST_PRODUCE_BATCH_EVENTS,
      timeoutMs: config.INGEST_PRODUCE_TIMEOUT_MS,
      maxConcurrentSends: config.INGEST_MAX_CONCURRENT_SENDS,
    });
    this.inflight = metrics.gauge('portrait_ingest_producer_inflight_events', 'HTTP events accepted and not yet acknowledged by Kafka');
  }

  async onApplicationBootstrap(): Promise<void> {
    this.health.register('kafka_producer', () => ({ ok: this.producer?.isConnected ?? false }));
    try {
      await this.bus.ensureTopics(ALL_TOPIC_SPECS);
      this.producer = await this.bus.producer();
      this.markReady.resolve();
    } catch (e) {
      this.markReady.reject(e);
      throw e;
    }
  }

  /** Resolves once the topics exist and the producer is connected (Nest runs bootstrap hooks concurrently). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Shared with the raw consumer. */
  get kafkaProducer(): MessageProducer | null {
    return this.producer;
  }

  async ingest(items: readonly unknown[], rawOf: (i: number) => Buffer): Promise<IngestOutcome> {
    if (!this.producer?.isConnected) throw new IntakeUnavailableError('Kafka producer not connected');
    const batch = new IntakeBatch('http', Date.now(), items.length);
    for (let i = 0; i < items.length; i++) this.core.accept(batch, i, items[i], () => rawOf(i));
    try {
      const sent = this.coalescer.submit([
        { topic: this.eventsTopic, messages: batch.events },
        { topic: this.dlqTopic, messages: batch.deadLetters },
      ]);
      this.inflight.set(this.coalescer.outstanding);
      await sent;
    } catch (e) {
      if (e instanceof ProducerBusyError) throw new IntakeBusyError(e.message);
      throw new IntakeUnavailableError(e instanceof Error ? e.message : String(e));
    }
    this.inflight.set(this.coalescer.outstanding);
    this.core.committed(batch);
    return { accepted: batch.events.length, duplicates: batch.duplicates, rejected: batch.rejected };
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // observed by whenReady() callers; never an unhandled rejection
  return { promise, resolve, reject };
}
