import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { ClickHouseModule, ClickHouseStore } from '@app/clickhouse';
import type { PublisherConfig } from '@app/config';
import { KafkaModule } from '@app/kafka';
import { ObservabilityModule } from '@app/observability';
import { ModelRegistry } from './inference/model-registry';
import { loadAnyProfileModel, ProfileModelLoader } from './inference/profile-model';
import { KnownAttributesStore } from './known-attributes.store';
import { ProfileCache } from './profile-cache';
import { ProfilePipeline } from './profile-pipeline.service';
import { ProfileRepository } from './profile.repository';
import { ProfilesController, SegmentsController } from './profiles.controller';
import { SegmentRuleSet } from './segments/segment-rule-set';
import { PUBLISHER_CONFIG } from './tokens';

export interface PublisherModuleOptions {
  /** How model versions become runnable models (tests inject failing loaders). */
  modelLoader?: ProfileModelLoader;
}

@Module({})
export class PublisherModule {
  static forRoot(config: PublisherConfig, logger: Logger, options: PublisherModuleOptions = {}): DynamicModule {
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
      controllers: [ProfilesController, SegmentsController],
      providers: [
        { provide: PUBLISHER_CONFIG, useValue: config },
        { provide: ProfileCache, useValue: new ProfileCache(config.PUBLISHER_CACHE_SIZE) },
        { provide: ModelRegistry, useValue: new ModelRegistry(options.modelLoader ?? loadAnyProfileModel) },
        { provide: SegmentRuleSet, useValue: new SegmentRuleSet(config.PUBLISHER_SEGMENTS_FILE, logger, config.PUBLISHER_SEGMENTS_POLL_MS) },
        { provide: KnownAttributesStore, useValue: new KnownAttributesStore() },
        { provide: ProfileRepository, useFactory: (store: ClickHouseStore) => new ProfileRepository(store), inject: [ClickHouseStore] },
        ProfilePipeline,
      ],
    };
  }
}
