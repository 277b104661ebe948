import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { IngestorConfig } from '@app/config';
import { ALL_TOPIC_SPECS, buildDeadLetter, clickEventKey, Codecs, Topics } from '@app/contracts';
import { KafkaBus, MessageProducer, OutgoingMessage } from '@app/kafka';
import { HealthRegistry, Metrics } from '@app/observability';
import { normalizeEvent } from './event-normalizer';
import { INGESTOR_CONFIG } from './tokens';

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  rejected: { index: number; reason: string }[];
}

/** Kafka not reachable or not accepting: the HTTP layer answers 503 with Retry-After. */
export class IntakeUnavailableError extends Error {}

/** Validates events, publishes the valid ones (keyed by user) and dead-letters the rest. */
@Injectable()
export class EventPipeline implements OnApplicationBootstrap {
  private producer: MessageProducer | null = null;
  private readonly accepted;

  constructor(
    @Inject(INGESTOR_CONFIG) readonly config: IngestorConfig,
    private readonly bus: KafkaBus,
    metrics: Metrics,
    private readonly health: HealthRegistry,
  ) {
    this.accepted = metrics.counter('portrait_ingest_events_total', 'Events received by outcome', ['outcome']);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.ensureTopics(ALL_TOPIC_SPECS);
    this.producer = await this.bus.producer();
    this.health.register('kafka_producer', () => ({ ok: this.producer?.isConnected ?? false }));
  }

  async ingest(items: readonly unknown[], rawItems: readonly Buffer[]): Promise<IngestOutcome> {
    const producer = this.producer;
    if (!producer?.isConnected) throw new IntakeUnavailableError('Kafka producer not connected');
    const now = Date.now();
    const valid: OutgoingMessage[] = [];
    const dead: OutgoingMessage[] = [];
    const rejected: IngestOutcome['rejected'] = [];
    items.forEach((item, index) => {
      const r = normalizeEvent(item, now);
      if (r.ok) {
        valid.push({ key: clickEventKey(r.event), value: Codecs.ClickEvent.encode(r.event), timestamp: r.event.ts });
      } else {
        const reason = `${r.field}: ${r.reason}`;
        rejected.push({ index, reason });
        const dl = buildDeadLetter({
          payload: rawItems[index] ?? Buffer.from(JSON.stringify(item) ?? 'null'),
          error: reason,
          reasonCode: 'validation',
          field: r.field,
          stage: 'ingestor-http',
          service: 'ingestor',
        });
        dead.push({ value: Codecs.DeadLetter.encode(dl) });
      }
    });
    try {
      await producer.sendMany([
        { topic: this.bus.topic(Topics.ClickstreamEvents), messages: valid },
        { topic: this.bus.topic(Topics.ClickstreamDlq), messages: dead },
      ]);
    } catch (e) {
      throw new IntakeUnavailableError(e instanceof Error ? e.message : String(e));
    }
    this.accepted.inc({ outcome: 'accepted' }, valid.length);
    this.accepted.inc({ outcome: 'rejected' }, rejected.length);
    return { accepted: valid.length, duplicates: 0, rejected };
  }
}
