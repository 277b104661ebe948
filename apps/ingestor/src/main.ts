import { loadConfig, ingestorConfigSchema } from '@app/config';
import { createLogger } from '@app/observability';
import { startIngestor } from './ingestor.app';

async function main() {
  const config = loadConfig(ingestorConfigSchema);
  const logger = createLogger('ingestor', config.LOG_LEVEL);
  await startIngestor(config, logger);
}

main().catch((err: unknown) => {
   
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
