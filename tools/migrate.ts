import { ClickHouseStore, loadMigrations, migrate } from '@app/clickhouse';
import { baseConfigSchema, loadConfig } from '@app/config';
import { createLogger } from '@app/observability';

/** `npm run migrate [-- --down <version>]`: applies the ClickHouse migrations (idempotent). */
async function main() {
  const config = loadConfig(baseConfigSchema);
  const logger = createLogger('migrate', config.LOG_LEVEL);
  const store = new ClickHouseStore({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
  });
  try {
    const { applied } = await migrate(store, logger, loadMigrations());
    console.log(applied.length ? `applied: ${applied.join(', ')}` : `database ${store.database} is up to date`);
  } finally {
    await store.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
