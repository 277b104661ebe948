import { setPriority } from 'node:os';
import { loadConfig, trainerConfigSchema } from '@app/config';
import { selectBackend } from '@app/model';
import { bootstrapService, createLogger } from '@app/observability';
import { TrainerModule } from './trainer.module';

async function main() {
  const config = loadConfig(trainerConfigSchema);
  const logger = createLogger('trainer', config.LOG_LEVEL);
  // Training is throughput work and can use a whole core; where it shares cores with the
  // latency-critical services (a small host, the benchmarks), it yields to them (docs/trainer.md).
  if (config.TRAINER_NICENESS > 0) {
    try {
      setPriority(config.TRAINER_NICENESS);
      logger.info({ event: 'trainer_niceness', niceness: config.TRAINER_NICENESS }, `running at niceness ${config.TRAINER_NICENESS}`);
    } catch (err) {
      logger.warn({ event: 'trainer_niceness_failed', err }, 'could not lower the process priority; running at normal priority');
    }
  }
  const backend = await selectBackend(logger, config.TRAINER_BACKEND);
  await bootstrapService({
    name: 'trainer',
    module: TrainerModule.forRoot(config, logger, backend.backend),
    logger,
    host: config.HTTP_HOST,
    port: config.TRAINER_PORT,
  });
}

main().catch((err: unknown) => {
   
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
