import { loadConfig, trainerConfigSchema } from '@app/config';
import { selectBackend } from '@app/model';
import { bootstrapService, createLogger } from '@app/observability';
import { TrainerModule } from './trainer.module';

async function main() {
  const config = loadConfig(trainerConfigSchema);
  const logger = createLogger('trainer', config.LOG_LEVEL);
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
