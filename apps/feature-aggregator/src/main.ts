import { aggregatorConfigSchema, loadConfig } from '@app/config';
import { bootstrapService, createLogger } from '@app/observability';
import { AggregatorModule } from './aggregator.module';

async function main() {
  const config = loadConfig(aggregatorConfigSchema);
  const logger = createLogger('feature-aggregator', config.LOG_LEVEL);
  await bootstrapService({
    name: 'feature-aggregator',
    module: AggregatorModule.forRoot(config, logger),
    logger,
    host: config.HTTP_HOST,
    port: config.AGGREGATOR_PORT,
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
