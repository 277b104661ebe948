export interface HealthCheckResult {
  ok: boolean;
  detail?: string;
}
export type HealthCheck = () => HealthCheckResult | Promise<HealthCheckResult>;

/**
 * Components register readiness checks (Kafka consumer running and not stalled, ClickHouse
 * reachable, model loaded, ...). `/health/live` only says the event loop answers;
 * `/health/ready` runs every check with a timeout.
 */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private shuttingDown = false;

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async readiness(timeoutMs = 2000): Promise<{ ready: boolean; checks: Record<string, HealthCheckResult> }> {
    const checks: Record<string, HealthCheckResult> = {};
    if (this.shuttingDown) checks.shutdown = { ok: false, detail: 'shutting down' };
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<HealthCheckResult>((resolve) => {
            timer = setTimeout(() => resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` }), timeoutMs);
          });
          checks[name] = await Promise.race([Promise.resolve(check()), timeout]);
        } catch (e) {
          checks[name] = { ok: false, detail: e instanceof Error ? e.message : String(e) };
        } finally {
          if (timer) clearTimeout(timer);
        }
      }),
    );
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }
}
