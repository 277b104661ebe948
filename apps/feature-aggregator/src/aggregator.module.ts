import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import type { AggregatorConfig } from '@app/config';
import { ClickHouseModule } from '@app/clickhouse';
import { KafkaModule } from '@app/kafka';
import { ObservabilityModule } from '@app/observability';
import { EventsConsumer } from './events.consumer';
import { AGGREGATOR_CONFIG } from './tokens';

@Module({})
export class AggregatorModule {
  static forRoot(config: AggregatorConfig, logger: Logger): DynamicModule {
    return {
      module: AggregatorModule,
      imports: [
        ObservabilityModule.forService('feature-aggregator', logger),
        KafkaModule.forRoot({
          brokers: config.KAFKA_BROKERS,
          clientId: config.KAFKA_CLIENT_ID ?? 'portrait-feature-aggregator',
          topicPrefix: config.KAFKA_TOPIC_PREFIX,
          groupPrefix: config.KAFKA_GROUP_PREFIX,
          logger,
        }),
        ClickHouseModule.forRoot(
          { url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD, database: config.CLICKHOUSE_DATABASE },
          logger,
        ),
      ],
      providers: [{ provide: AGGREGATOR_CONFIG, useValue: config }, EventsConsumer],
    };
  }
}
