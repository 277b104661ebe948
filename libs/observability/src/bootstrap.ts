import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { HealthRegistry } from './health';
import { PinoNestLogger } from './logger';
import { onShutdownSignal } from './shutdown';

export interface ServiceBootstrapOptions {
  name: string;
  module: unknown;
  logger: Logger;
  host: string;
  port: number;
  /** Fastify body limit in bytes. */
  bodyLimit?: number;
  /** Longest path parameter Fastify routes (its default, 100, answers longer ids with 404). */
  maxParamLength?: number;
  /** false: the service registers its own content-type parsers in `configure`. */
  bodyParser?: boolean;
  /** Extra Fastify set-up (content-type parsers, ...), before listen. */
  configure?: (app: NestFastifyApplication) => void | Promise<void>;
  /** false: leave SIGTERM/SIGINT alone (a service started inside a test process). Default true. */
  handleSignals?: boolean;
}

/**
 * Starts one service: Nest on Fastify, JSON logs, HTTP on host:port, and an ordered shutdown
 * on SIGTERM/SIGINT through Nest's lifecycle hooks (consumers stop in onModuleDestroy, writers
 * flush, producers disconnect last).
 */
export async function bootstrapService(opts: ServiceBootstrapOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: opts.bodyLimit ?? 1024 * 1024, trustProxy: false, maxParamLength: opts.maxParamLength ?? 100 });
  const app = await NestFactory.create<NestFastifyApplication>(opts.module as never, adapter, {
    logger: new PinoNestLogger(opts.logger),
    bufferLogs: false,
    abortOnError: false,
    bodyParser: opts.bodyParser ?? true,
  });
  await opts.configure?.(app);
  await app.listen(opts.port, opts.host);
  opts.logger.info({ event: 'service_started', service: opts.name, host: opts.host, port: opts.port }, 'listening');
  if (opts.handleSignals === false) return app;
  onShutdownSignal(opts.logger, async () => {
    app.get(HealthRegistry).markShuttingDown();
    await app.close();
  });
  return app;
}
