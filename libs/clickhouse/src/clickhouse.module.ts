import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { ClickHouseSettings, ClickHouseStore } from './clickhouse-store';
import { migrate } from './migrations';

/**
 * Nest adapter: one ClickHouseStore per process. Migrations run before the module is ready,
 * retrying while the server is not reachable yet (services may start before ClickHouse).
 */
@Global()
@Module({})
export class ClickHouseModule implements OnApplicationShutdown {
  constructor(@Inject(ClickHouseStore) private readonly store: ClickHouseStore) {}

  static forRoot(settings: ClickHouseSettings, logger: Logger, opts: { migrate?: boolean } = {}): DynamicModule {
    return {
      module: ClickHouseModule,
      providers: [
        {
          provide: ClickHouseStore,
          useFactory: async () => {
            const store = new ClickHouseStore(settings);
            if (opts.migrate !== false) await migrateWithRetry(store, logger);
            return store;
          },
        },
      ],
      exports: [ClickHouseStore],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

async function migrateWithRetry(store: ClickHouseStore, logger: Logger, deadlineMs = 60000): Promise<void> {
  const start = Date.now();
  let delay = 250;
  for (;;) {
    try {
      await migrate(store, logger);
      return;
    } catch (e) {
      if (Date.now() - start > deadlineMs) throw e;
      logger.warn({ event: 'clickhouse_migrate_retry', err: e, delay_ms: delay }, 'ClickHouse not ready, retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}
