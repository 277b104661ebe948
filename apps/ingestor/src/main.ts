import { loadConfig, ingestorConfigSchema } from '@app/config';
import { bootstrapService, createLogger } from '@app/observability';
import { IngestorModule } from './ingestor.module';

async function main() {
  const config = loadConfig(ingestorConfigSchema);
  const logger = createLogger('ingestor', config.LOG_LEVEL);
  if (config.PORTRAIT_INGEST_KEYS.length === 0) {
    logger.warn({ event: 'api_keys_unset' }, 'PORTRAIT_INGEST_KEYS is not set: POST /v1/events accepts requests without x-api-key');
  }
  await bootstrapService({
    name: 'ingestor',
    module: IngestorModule.forRoot(config, logger),
    logger,
    host: config.HTTP_HOST,
    port: config.INGESTOR_PORT,
    bodyLimit: config.INGEST_MAX_BODY_BYTES,
    bodyParser: false,
    configure: (app) => {
      // NDJSON and JSON bodies are parsed by the collector itself (to report line numbers and
      // to reject hostile JSON precisely), so keep them as raw strings here.
      const fastify = app.getHttpAdapter().getInstance();
      fastify.removeContentTypeParser(['application/json', 'text/plain']);
      fastify.addContentTypeParser(
        ['application/json', 'application/x-ndjson', 'text/plain'],
        { parseAs: 'buffer', bodyLimit: config.INGEST_MAX_BODY_BYTES },
        (_req, body, done) => done(null, body),
      );
    },
  });
}

main().catch((err: unknown) => {
  // eslint-disable-next-line no-console
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
