import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

const CODES: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'body_too_large',
  415: 'unsupported_media_type',
};

/**
 * Answers HTTP errors raised before our handler runs (Fastify's body limit, unknown routes) in
 * the collector's `{error, message}` form. Nest maps Fastify's own errors (e.g. the 413 of the
 * body limit) to HttpExceptions, so they land here.
 */
@Catch(HttpException)
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly maxBodyBytes: number) {}

  catch(exception: HttpException, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const status = exception.getStatus();
    const message =
      status === 413 ? `request body larger than ${this.maxBodyBytes} bytes (INGEST_MAX_BODY_BYTES)` : exception.message;
    void reply.status(status).send({ error: CODES[status] ?? `http_${status}`, message });
  }
}
