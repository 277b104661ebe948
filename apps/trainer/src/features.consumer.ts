import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import type { TrainerConfig } from '@app/config';
import { ClickHouseStore, toDateTimeString } from '@app/clickhouse';
import { ALL_TOPIC_SPECS, Codecs, Topics, UserFeatures } from '@app/contracts';
import { BatchConsumer, IncomingMessage, KafkaBus, MessageProducer } from '@app/kafka';
import { HealthRegistry, LOGGER, Metrics } from '@app/observability';
import { Candidate, OnlineTrainer } from './online-trainer';
import { TRAINER_CONFIG } from './tokens';

/**
 * Wires the online trainer to Kafka and ClickHouse: user.attributes.v1 (read whole at every start:
 * a compacted topic, latest per user) and user.features.v1 in; model.updates.v1 (gated versions)
 * and model.metrics.v1 out; metrics and versions also into ClickHouse.
 *
 * Offsets of user.features.v1 are committed once the messages are in the trainer's memory (the
 * label join holds samples for up to 24 h of event time): after a crash the samples pending since
 * the last saved version are lost, the model itself resumes from that version. For an online
 * learner that trade is right: replaying a day of features on every restart would cost more.
 */
@Injectable()
export class FeaturesConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private features: BatchConsumer | null = null;
  private attributes: BatchConsumer | null = null;
  private producer: MessageProducer | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private lastMetricsAt = 0;
  private work: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly m;

  constructor(
    @Inject(TRAINER_CONFIG) private readonly config: TrainerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly bus: KafkaBus,
    private readonly trainer: OnlineTrainer,
    private readonly clickhouse: ClickHouseStore,
    private readonly health: HealthRegistry,
    metrics: Metrics,
  ) {
    this.m = {
      steps: metrics.counter('portrait_trainer_steps_total', 'Mini-batch training steps'),
      samples: metrics.counter('portrait_trainer_samples_total', 'Fresh training samples learnt from'),
      versions: metrics.counter('portrait_trainer_versions_total', 'Candidate model versions', ['outcome']),
      drift: metrics.counter('portrait_trainer_drift_total', 'Drift detections on the prequential loss'),
      undecodable: metrics.counter('portrait_trainer_undecodable_total', 'Messages that could not be decoded and were skipped', ['topic']),
      pending: metrics.gauge('portrait_trainer_pending_samples', 'Samples waiting for their label window or a mini-batch'),
      loss: metrics.gauge('portrait_trainer_loss', 'Training loss of the last mini-batch'),
      attributeUsers: metrics.gauge('portrait_trainer_attribute_users', 'Users with known attribute values held for training'),
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.trainer.init();
    await this.bus.ensureTopics(ALL_TOPIC_SPECS);
    this.producer = await this.bus.producer();
    // A fresh group per start: the compacted attributes topic is read from the beginning each time.
    this.attributes = this.bus.consumer({
      groupId: `trainer-attributes-${process.pid}-${Date.now()}`,
      topics: [Topics.UserAttributes],
      fromBeginning: true,
      handler: (messages) => Promise.resolve(this.onAttributes(messages)),
    });
    this.features = this.bus.consumer({
      groupId: 'trainer',
      topics: [Topics.UserFeatures],
      handler: (messages) => this.onFeatures(messages),
    });
    const features = this.features;
    const attributes = this.attributes;
    this.health.register('features_consumer', () => features.health());
    this.health.register('attributes_consumer', () => attributes.health());
    await attributes.start();
    await features.start();
    this.ticker = setInterval(() => void this.enqueue(() => this.tick()), Math.min(this.config.TRAINER_METRICS_EVERY_MS, this.config.TRAINER_VERSION_EVERY_MS, 1000));
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.ticker) clearInterval(this.ticker);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await this.features?.disconnect();
    await this.attributes?.disconnect();
    await this.work;
    this.trainer.dispose();
  }

  private onAttributes(messages: IncomingMessage[]): void {
    for (const m of messages) {
      const r = m.value ? Codecs.UserAttributes.tryDecode(m.value) : null;
      if (r?.ok) this.trainer.setAttributes(r.value.user_id, r.value.attributes);
      else if (m.value) {
        this.m.undecodable.inc({ topic: Topics.UserAttributes });
        this.logger.warn({ event: 'attributes_undecodable', offset: m.offset, reason: r?.ok === false ? r.error : 'empty' }, 'skipping');
      }
    }
    this.m.attributeUsers.set(this.trainer.attributeUsers);
  }

  private async onFeatures(messages: IncomingMessage[]): Promise<void> {
    const batch: UserFeatures[] = [];
    for (const m of messages) {
      const r = m.value ? Codecs.UserFeatures.tryDecode(m.value) : null;
      if (r?.ok) batch.push(r.value);
      else {
        // Not ours to dead-letter (the aggregator owns the topic's quality); counted and logged.
        this.m.undecodable.inc({ topic: Topics.UserFeatures });
        this.logger.warn({ event: 'features_undecodable', offset: m.offset, reason: r?.ok === false ? r.error : 'empty' }, 'skipping');
      }
    }
    await this.enqueue(async () => {
      this.trainer.addFeatures(batch);
      await this.train(false);
    });
    if (this.trainer.readySamples > 0 && !this.flushTimer && !this.stopping) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        void this.enqueue(() => this.train(true));
      }, this.config.TRAINER_MAX_WAIT_MS);
    }
  }

  /** Serialises all model work (handler, timers): tfjs state is not re-entrant. */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.work.then(fn).catch((err: unknown) => this.logger.error({ event: 'trainer_work_failed', err }, 'training work failed'));
    this.work = next;
    return next;
  }

  private async train(flush: boolean): Promise<void> {
    const driftBefore = this.trainer.driftEvents;
    const samplesBefore = this.trainer.trainedSamples;
    const steps = this.trainer.trainReady(flush);
    if (steps > 0) {
      this.m.steps.inc(steps);
      this.m.loss.set(this.trainer.lastLoss ?? 0);
    }
    this.m.samples.inc(this.trainer.trainedSamples - samplesBefore);
    if (this.trainer.driftEvents > driftBefore) this.m.drift.inc(this.trainer.driftEvents - driftBefore);
    this.m.pending.set(this.trainer.pendingSamples);
    if (this.trainer.candidateDue()) await this.publishCandidate();
  }

  private async tick(): Promise<void> {
    if (this.trainer.candidateDue()) await this.publishCandidate();
    if (Date.now() - this.lastMetricsAt >= this.config.TRAINER_METRICS_EVERY_MS) await this.publishMetrics();
  }

  private async publishCandidate(): Promise<void> {
    const c = await this.trainer.candidate();
    this.m.versions.inc({ outcome: c.published ? 'published' : 'held' });
    if (c.published) {
      await this.producer!.send(this.bus.topic(Topics.ModelUpdates), [{ key: 'profile-model', value: Codecs.ModelUpdate.encode(c.update) }]);
    }
    await this.recordVersion(c);
    await this.publishMetrics();
  }

  private async recordVersion(c: Candidate): Promise<void> {
    const u = c.update;
    await this.clickhouse.insert('model_versions', [
      {
        model_version: u.model_version,
        created_at: toDateTimeString(u.created_at),
        created_at_ms: u.created_at,
        parent_version: u.parent_version ?? '',
        backend: u.backend,
        trained_samples: u.trained_samples,
        published: c.published ? 1 : 0,
        gate: c.gate,
        heads_json: JSON.stringify(u.heads),
        metrics_json: u.metrics_json,
      },
    ]);
  }

  private async publishMetrics(): Promise<void> {
    this.lastMetricsAt = Date.now();
    const all = this.trainer.metrics();
    await this.producer!.send(
      this.bus.topic(Topics.ModelMetrics),
      all.map((x) => ({ key: x.message.model_version, value: Codecs.ModelMetrics.encode(x.message) })),
    );
    const rows = all.flatMap(({ role, message: m }) =>
      m.heads.map((h) => ({
        emitted_at: toDateTimeString(m.emitted_at),
        emitted_at_ms: m.emitted_at,
        model_version: m.model_version,
        role,
        samples_seen: m.samples_seen,
        window_size: m.window_size,
        drift: m.drift ? 1 : 0,
        head: h.head,
        kind: h.kind,
        n: h.n,
        accuracy: h.accuracy,
        macro_f1: h.macro_f1,
        log_loss: h.log_loss,
        auc: h.auc,
        majority_accuracy: h.majority_accuracy,
        majority_macro_f1: h.majority_macro_f1,
        recall_classes: Object.keys(h.per_class_recall),
        recall_values: Object.values(h.per_class_recall),
      })),
    );
    if (rows.length > 0) await this.clickhouse.insert('model_metrics', rows);
  }
}
