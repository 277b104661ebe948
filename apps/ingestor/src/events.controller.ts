import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeys, IngestorConfig } from '@app/config';
import { Metrics } from '@app/observability';
import { EventPipeline, IntakeBusyError, IntakeUnavailableError } from './event-pipeline.service';
import { parseEventsBody } from './body-parser';
import { INGESTOR_CONFIG } from './tokens';

/** `POST /v1/events`: a JSON array or NDJSON of canonical events (CONTRACTS.md). */
@Controller('v1/events')
export class EventsController {
  private readonly keys: ApiKeys;
  private readonly requests;
  private readonly latency;

  constructor(
    @Inject(INGESTOR_CONFIG) private readonly config: IngestorConfig,
    private readonly pipeline: EventPipeline,
    metrics: Metrics,
  ) {
    this.keys = new ApiKeys(config.PORTRAIT_INGEST_KEYS);
    this.requests = metrics.counter('portrait_ingest_requests_total', 'POST /v1/events requests by status', ['status']);
    this.latency = metrics.histogram('portrait_ingest_request_duration_seconds', 'POST /v1/events latency', [], [
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
    ]);
  }

  @Post()
  async collect(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const end = this.latency.startTimer();
    const send = async (status: number, body: unknown, retryAfter?: number) => {
      if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
      this.requests.inc({ status: String(status) });
      end();
      await reply.status(status).send(body);
    };
    if (!this.keys.allows(req.headers['x-api-key'])) {
      return send(401, { error: 'unauthorized', message: 'missing or invalid x-api-key header' });
    }
    const parsed = parseEventsBody(req.body, this.config.INGEST_MAX_EVENTS);
    if (!parsed.ok) return send(parsed.status, { error: parsed.error, message: parsed.message });
    try {
      const outcome = await this.pipeline.ingest(parsed.items, parsed.rawOf);
      return send(202, outcome);
    } catch (e) {
      if (e instanceof IntakeBusyError) {
        return send(429, { error: 'busy', message: 'ingest buffer full, retry later' }, 1);
      }
      if (e instanceof IntakeUnavailableError) {
        return send(503, { error: 'unavailable', message: `event bus unavailable, retry later (${e.message})` }, 5);
      }
      throw e;
    }
  }
}
