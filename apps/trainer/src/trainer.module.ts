import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { TrainerConfig } from '@app/config';
import { KafkaModule } from '@app/kafka';
import { ObservabilityModule } from '@app/observability';
import { FeaturesConsumer } from './features.consumer';
import { OnlineTrainer } from './online-trainer';
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
      ],
      providers: [
        { provide: TRAINER_CONFIG, useValue: config },
        { provide: TRAINER_BACKEND, useValue: backend },
        { provide: OnlineTrainer, useFactory: () => new OnlineTrainer(backend) },
        FeaturesConsumer,
      ],
    };
  }
}
