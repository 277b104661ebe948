import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { KafkaBus, KafkaBusSettings } from './kafka-bus';

/** Nest adapter: one KafkaBus per process, disconnected last on shutdown. */
@Global()
@Module({})
export class KafkaModule implements OnApplicationShutdown {
  constructor(@Inject(KafkaBus) private readonly bus: KafkaBus) {}

  static forRoot(settings: Omit<KafkaBusSettings, 'logger'> & { logger: Logger }): DynamicModule {
    return {
      module: KafkaModule,
      providers: [{ provide: KafkaBus, useFactory: () => new KafkaBus(settings) }],
      exports: [KafkaBus],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.disconnect();
  }
}
