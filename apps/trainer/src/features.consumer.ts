import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Logger } from 'pino';
import type { TrainerConfig } from '@app/config';
import { ALL_TOPIC_SPECS, Codecs, Topics, UserFeatures } from '@app/contracts';
import { BatchConsumer, IncomingMessage, KafkaBus, MessageProducer } from '@app/kafka';
import { HealthRegistry, LOGGER, Metrics } from '@app/observability';
import { OnlineTrainer } from './online-trainer';
import { TRAINER_CONFIG } from './tokens';

/** Feeds `user.features.v1` into the online trainer and publishes model versions. */
@Injectable()
export class FeaturesConsumer implements OnApplicationBootstrap, OnModuleDestroy {
  private consumer: BatchConsumer | null = null;
  private producer: MessageProducer | null = null;
  private pending: UserFeatures[] = [];
  private timer: NodeJS.Timeout | null = null;
  private training: Promise<void> = Promise.resolve();
  private readonly steps;

  constructor(
    @Inject(TRAINER_CONFIG) private readonly config: TrainerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly bus: KafkaBus,
    private readonly trainer: OnlineTrainer,
    private readonly health: HealthRegistry,
    metrics: Metrics,
  ) {
    this.steps = metrics.counter('portrait_trainer_steps_total', 'Mini-batch training steps');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.ensureTopics(ALL_TOPIC_SPECS);
    this.producer = await this.bus.producer();
    this.consumer = this.bus.consumer({
      groupId: 'trainer',
      topics: [Topics.UserFeatures],
      handler: (messages) => this.onBatch(messages),
    });
    const consumer = this.consumer;
    this.health.register('features_consumer', () => consumer.health());
    await consumer.start();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.consumer?.disconnect();
    await this.training;
  }

  private async onBatch(messages: IncomingMessage[]): Promise<void> {
    for (const m of messages) {
      const r = m.value ? Codecs.UserFeatures.tryDecode(m.value) : null;
      if (r?.ok) this.pending.push(r.value);
      else this.logger.warn({ event: 'features_undecodable', offset: m.offset, reason: r?.ok === false ? r.error : 'empty' }, 'skipping');
    }
    while (this.pending.length >= this.config.TRAINER_BATCH_SIZE) {
      await this.trainAndPublish(this.pending.splice(0, this.config.TRAINER_BATCH_SIZE));
    }
    if (this.pending.length > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        const batch = this.pending.splice(0);
        if (batch.length > 0) {
          this.training = this.training.then(() => this.trainAndPublish(batch)).catch((err: unknown) =>
            this.logger.error({ event: 'train_failed', err }, 'training step failed'),
          );
        }
      }, this.config.TRAINER_MAX_WAIT_MS);
    }
  }

  private async trainAndPublish(batch: UserFeatures[]): Promise<void> {
    const loss = await this.trainer.trainBatch(batch);
    this.steps.inc();
    const update = await this.trainer.snapshot();
    await this.producer!.send(this.bus.topic(Topics.ModelUpdates), [{ key: 'profile-model', value: Codecs.ModelUpdate.encode(update) }]);
    this.logger.info({ event: 'model_published', version: update.model_version, samples: batch.length, loss }, 'model version published');
  }
}
