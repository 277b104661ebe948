import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { ClickHouseModule } from '@app/clickhouse';
import type { PublisherConfig } from '@app/config';
import { KafkaModule } from '@app/kafka';
import { ObservabilityModule } from '@app/observability';
import { ModelRegistry } from './model-registry';
import { ProfileCache } from './profile-cache';
import { ProfilesController } from './profiles.controller';
import { ProfilePipeline } from './profile-pipeline.service';
import { PUBLISHER_CONFIG } from './tokens';

@Module({})
export class PublisherModule {
  static forRoot(config: PublisherConfig, logger: Logger): DynamicModule {
    return {
      module: PublisherModule,
      imports: [
        ObservabilityModule.forService('profile-publisher', logger),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: config.KAFKA_CLIENT_ID ?? 'portrait-profile-publisher',
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          groupPrefix: config.KAFKA_GROUP_PREFIX,
          logger,
        }),
        ClickHouseModule.forRoot(
          { url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD, database: config.CLICKHOUSE_DATABASE },
          logger,
        ),
      ],
      controllers: [ProfilesController],
      providers: [{ provide: PUBLISHER_CONFIG, useValue: config }, ProfileCache, ModelRegistry, ProfilePipeline],
    };
  }
}
