import { loadConfig, publisherConfigSchema } from '@app/config';
import { selectBackend } from '@app/model';
import { bootstrapService, createLogger } from '@app/observability';
import { PublisherModule } from './publisher.module';

/** User ids up to 256 characters must reach the controller (Fastify's default stops at 100). */
export const PUBLISHER_MAX_PARAM_LENGTH = 16 * 1024;

async function main() {
  const config = loadConfig(publisherConfigSchema);
  const logger = createLogger('profile-publisher', config.LOG_LEVEL);
  if (config.PORTRAIT_READ_KEYS.length === 0) {
    logger.warn({ event: 'api_keys_unset' }, 'PORTRAIT_READ_KEYS is not set: the lookup API answers without x-api-key');
  }
  await selectBackend(logger, config.PUBLISHER_BACKEND);
  await bootstrapService({
    name: 'profile-publisher',
    module: PublisherModule.forRoot(config, logger),
    logger,
    host: config.HTTP_HOST,
    port: config.PUBLISHER_PORT,
    maxParamLength: PUBLISHER_MAX_PARAM_LENGTH,
  });
}

main().catch((err: unknown) => {
   
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
