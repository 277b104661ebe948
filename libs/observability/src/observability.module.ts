import { Controller, DynamicModule, Get, Global, Header, Module, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { HealthRegistry } from './health';
import { Metrics } from './metrics';

export const LOGGER = Symbol('LOGGER');

@Controller()
export class ObservabilityController {
  constructor(
    private readonly health: HealthRegistry,
    private readonly metrics: Metrics,
  ) {}

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res() reply: FastifyReply) {
    const r = await this.health.readiness();
    await reply.status(r.ready ? 200 : 503).send({ status: r.ready ? 'ok' : 'unavailable', checks: r.checks });
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async metricsText() {
    return this.metrics.text();
  }
}

/** Health, metrics and the process logger, shared by every service. */
@Global()
@Module({})
export class ObservabilityModule {
  static forService(service: string, logger: Logger): DynamicModule {
    const metrics = new Metrics(service);
    const health = new HealthRegistry();
    return {
      module: ObservabilityModule,
      controllers: [ObservabilityController],
      providers: [
        { provide: Metrics, useValue: metrics },
        { provide: HealthRegistry, useValue: health },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [Metrics, HealthRegistry, LOGGER],
    };
  }
}
