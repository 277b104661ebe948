import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { IngestorConfig } from '@app/config';
import { KafkaModule } from '@app/kafka';
import { ObservabilityModule } from '@app/observability';
import { EventsController } from './events.controller';
import { EventPipeline } from './event-pipeline.service';
import { IntakeCore } from './intake-core.service';
import { RawIntakeConsumer } from './raw-intake.consumer';
import { INGESTOR_CONFIG } from './tokens';

@Module({})
export class IngestorModule {
  static forRoot(config: IngestorConfig, logger: Logger): DynamicModule {
    return {
      module: IngestorModule,
      imports: [
        ObservabilityModule.forService('ingestor', logger),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: config.KAFKA_CLIENT_ID ?? 'portrait-ingestor',
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          groupPrefix: config.KAFKA_GROUP_PREFIX,
          logger,
        }),
      ],
      controllers: [EventsController],
      providers: [{ provide: INGESTOR_CONFIG, useValue: config }, IntakeCore, EventPipeline, RawIntakeConsumer],
    };
  }
}
