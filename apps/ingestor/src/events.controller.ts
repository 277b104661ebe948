import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeys, IngestorConfig } from '@app/config';
import { EventPipeline, IntakeUnavailableError } from './event-pipeline.service';
import { parseEventsBody } from './body-parser';
import { INGESTOR_CONFIG } from './tokens';

/** `POST /v1/events`: a JSON array or NDJSON of canonical events (CONTRACTS.md). */
@Controller('v1/events')
export class EventsController {
  private readonly keys: ApiKeys;

  constructor(
    @Inject(INGESTOR_CONFIG) private readonly config: IngestorConfig,
    private readonly pipeline: EventPipeline,
  ) {
    this.keys = new ApiKeys(config.PORTRAIT_INGEST_KEYS);
  }

  @Post()
  @HttpCode(202)
  async collect(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (!this.keys.allows(req.headers['x-api-key'])) {
      await reply.status(401).send({ error: 'unauthorized', message: 'missing or invalid x-api-key header' });
      return;
    }
    const parsed = parseEventsBody(req.body, this.config.INGEST_MAX_EVENTS);
    if (!parsed.ok) {
      await reply.status(parsed.status).send({ error: parsed.error, message: parsed.message });
      return;
    }
    try {
      const outcome = await this.pipeline.ingest(parsed.items, parsed.raw);
      await reply.status(202).send(outcome);
    } catch (e) {
      if (e instanceof IntakeUnavailableError) {
        await reply.status(503).header('Retry-After', '5').send({ error: 'unavailable', message: 'event bus unavailable, retry later' });
        return;
      }
      throw e;
    }
  }
}
