import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import type { IngestorConfig } from '@app/config';
import { bootstrapService } from '@app/observability';
import { HttpErrorFilter } from './http-error.filter';
import { IngestorModule } from './ingestor.module';

/**
 * Raw-body parsing for the collector and JSON errors for what Fastify rejects before our handler
 * runs (a body over the limit is Fastify's 413; we answer it in our own `{error, message}` form).
 */
export function configureIngestorHttp(app: NestFastifyApplication, config: IngestorConfig): void {
  const fastify = app.getHttpAdapter().getInstance();
  // NDJSON and JSON bodies are parsed by the collector itself (to report line numbers and to
  // reject hostile JSON precisely), so keep every body as raw bytes here.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.INGEST_MAX_BODY_BYTES }, (_req, body, done) =>
    done(null, body),
  );
  app.useGlobalFilters(new HttpErrorFilter(config.INGEST_MAX_BODY_BYTES));
}

/** Starts the ingestor (HTTP + raw consumer) in this process; used by main and by tests. */
export async function startIngestor(config: IngestorConfig, logger: Logger, handleSignals = true): Promise<NestFastifyApplication> {
  if (config.PORTRAIT_INGEST_KEYS.length === 0) {
    logger.warn({ event: 'api_keys_unset' }, 'PORTRAIT_INGEST_KEYS is not set: POST /v1/events accepts requests without x-api-key');
  }
  return bootstrapService({
    name: 'ingestor',
    module: IngestorModule.forRoot(config, logger),
    logger,
    host: config.HTTP_HOST,
    port: config.INGESTOR_PORT,
    bodyLimit: config.INGEST_MAX_BODY_BYTES,
    bodyParser: false,
    handleSignals,
    configure: (app) => configureIngestorHttp(app, config),
  });
}
