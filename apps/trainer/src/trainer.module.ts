import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { TrainerConfig } from '@app/config';
import { ClickHouseModule } from '@app/clickhouse';
import { KafkaModule } from '@app/kafka';
import { ObservabilityModule } from '@app/observability';
import { FeaturesConsumer } from './features.consumer';
import { OnlineTrainer, OnlineTrainerOptions } from './online-trainer';
import { TRAINER_BACKEND, TRAINER_CONFIG } from './tokens';

@Module({})
export class TrainerModule {
  static forRoot(config: TrainerConfig, logger: Logger, backend: string): DynamicModule {
    return {
      module: TrainerModule,
      imports: [
        ObservabilityModule.forService('trainer', logger),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: config.KAFKA_CLIENT_ID ?? 'portrait-trainer',
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          groupPrefix: config.KAFKA_GROUP_PREFIX,
          logger,
        }),
        ClickHouseModule.forRoot(
          { url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD, database: config.CLICKHOUSE_DATABASE },
          logger,
        ),
      ],
      providers: [
        { provide: TRAINER_CONFIG, useValue: config },
        { provide: TRAINER_BACKEND, useValue: backend },
        { provide: OnlineTrainer, useFactory: () => new OnlineTrainer(trainerOptions(config, backend), logger) },
        FeaturesConsumer,
      ],
    };
  }
}

export function trainerOptions(c: TrainerConfig, backend: string): OnlineTrainerOptions {
  return {
    attributes: c.TRAINER_ATTRIBUTES.length > 0 ? c.TRAINER_ATTRIBUTES : null,
    maxClasses: c.TRAINER_MAX_CLASSES,
    categorySlots: c.TRAINER_TOP_K_CATEGORIES,
    learningRate: c.TRAINER_LEARNING_RATE,
    horizonMs: c.TRAINER_LABEL_HORIZON_MS,
    spacingMs: c.TRAINER_SAMPLE_SPACING_MS,
    watermarkLagMs: c.TRAINER_WATERMARK_LAG_MS,
    maxPending: c.TRAINER_MAX_PENDING,
    maxUsers: c.TRAINER_MAX_USERS,
    maxAttributeUsers: c.TRAINER_MAX_ATTRIBUTE_USERS,
    batchSize: c.TRAINER_BATCH_SIZE,
    reservoirSize: c.TRAINER_RESERVOIR_SIZE,
    replayRatio: c.TRAINER_REPLAY_RATIO,
    versionEveryBatches: c.TRAINER_VERSION_EVERY_BATCHES,
    versionEveryMs: c.TRAINER_VERSION_EVERY_MS,
    gateTolerance: c.TRAINER_GATE_TOLERANCE,
    gateMinSamples: c.TRAINER_GATE_MIN_SAMPLES,
    evalWindow: c.TRAINER_EVAL_WINDOW,
    driftLambda: c.TRAINER_DRIFT_LAMBDA,
    modelDir: c.TRAINER_MODEL_DIR,
    backend,
  };
}
