import type { Logger } from 'pino';

/**
 * Ordered, graceful shutdown on SIGTERM/SIGINT: `stop` runs once (stop consuming → finish the
 * in-flight batch → flush writers → commit → disconnect is the caller's order); a second signal
 * or the deadline forces exit so a stuck dependency cannot keep the process alive forever.
 */
export function onShutdownSignal(logger: Logger, stop: () => Promise<void>, deadlineMs = 20000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ event: 'shutdown_forced', signal }, 'second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ event: 'shutdown_started', signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ event: 'shutdown_timeout', deadlineMs }, 'graceful shutdown timed out');
      process.exit(1);
    }, deadlineMs);
    timer.unref();
    stop().then(
      () => {
        logger.info({ event: 'shutdown_complete' }, 'bye');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ event: 'shutdown_failed', err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
