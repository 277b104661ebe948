import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PORTS, SERVICE_NODE_FLAGS } from '@app/config';

/**
 * Orchestrates the demo (scripts/demo.sh has provisioned infra and built): starts the four
 * services as their own processes, replays a dataset (the built-in generator by default), waits
 * until profiles are served, prints where to look, and on Ctrl-C stops the services it started.
 */
const ROOT = join(__dirname, '..', '..');
const APPS = ['ingestor', 'feature-aggregator', 'trainer', 'profile-publisher'] as const;
type App = (typeof APPS)[number];

const { values: args } = parseArgs({
  options: {
    source: { type: 'string' },
    format: { type: 'string' },
    labels: { type: 'string' },
    users: { type: 'string', default: '2000' },
    days: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    rate: { type: 'string', default: 'max' },
    once: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

const logsDir = join(ROOT, '.cache', 'demo', 'logs');
mkdirSync(logsDir, { recursive: true });
const children = new Map<App, ChildProcess>();
let stopping = false;

function startService(app: App): ChildProcess {
  const log = createWriteStream(join(logsDir, `${app}.log`), { flags: 'a' });
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, join(ROOT, 'dist', 'apps', app, 'src', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.on('exit', (code, signal) => {
    children.delete(app);
    if (!stopping) {
      console.error(`!! ${app} exited (${code ?? signal}); see ${join(logsDir, `${app}.log`)}`);
      void shutdown(1);
    }
  });
  children.set(app, child);
  return child;
}

async function waitReady(app: App, timeoutMs = 90000): Promise<void> {
  const port = DEFAULT_PORTS[app];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!children.has(app)) throw new Error(`${app} exited while starting`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${app} not ready on :${port} after ${timeoutMs} ms; see ${join(logsDir, `${app}.log`)}`);
}

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log('==> stopping services');
    await Promise.all(
      [...children.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => c.kill('SIGKILL'), 20000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
  }
  process.exit(code);
}

function runReplay(): Promise<number> {
  const replayArgs = args.source
    ? ['--source', args.source, '--format', args.format ?? 'canonical', ...(args.labels ? ['--labels', args.labels] : [])]
    : ['--format', 'generator', '--users', args.users, '--days', args.days, '--seed', args.seed];
  replayArgs.push('--rate', args.rate, '--to', 'kafka');
  console.log(`==> replay ${replayArgs.join(' ')}`);
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'tools', 'replay.js'), ...replayArgs], { cwd: ROOT, stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

async function main() {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // The ingestor creates the topics; the others follow once it is up.
  startService('ingestor');
  await waitReady('ingestor');
  for (const app of APPS.slice(1)) startService(app);
  await Promise.all(APPS.slice(1).map((a) => waitReady(a)));
  console.log(`==> services ready (logs in ${logsDir})`);

  const started = Date.now();
  const code = await runReplay();
  if (code !== 0) throw new Error(`replay failed with exit code ${code}`);

  const pub = `http://127.0.0.1:${DEFAULT_PORTS['profile-publisher']}`;
  const headers: Record<string, string> = {};
  const readKey = (process.env.PORTRAIT_READ_KEYS ?? '').split(',')[0];
  if (readKey) headers['x-api-key'] = readKey;
  let sample: { user_id: string } | undefined;
  const deadline = Date.now() + 120000;
  while (!sample && Date.now() < deadline) {
    const r = await fetch(`${pub}/v1/profiles?limit=1`, { headers }).catch(() => null);
    if (r?.status === 200) sample = ((await r.json()) as { profiles: { user_id: string }[] }).profiles[0];
    if (!sample) await new Promise((r) => setTimeout(r, 250));
  }
  if (!sample) throw new Error('no profile was served within 2 minutes; see the service logs');
  const profile = (await (await fetch(`${pub}/v1/profiles/${encodeURIComponent(sample.user_id)}`, { headers })).json()) as object;
  console.log(`\n==> first profiles served ${((Date.now() - started) / 1000).toFixed(1)} s after the replay started. One of them:`);
  console.log(JSON.stringify(profile, null, 2).split('\n').slice(0, 60).join('\n'));
  console.log(`
Where to look:
  profiles      curl ${pub}/v1/profiles?limit=10        curl ${pub}/v1/profiles/${sample.user_id}
  segments      curl ${pub}/v1/segments/<name>/members
  post events   curl -XPOST -H 'content-type: application/x-ndjson' --data-binary @events.ndjson http://127.0.0.1:${DEFAULT_PORTS.ingestor}/v1/events
  metrics       curl http://127.0.0.1:<3001-3004>/metrics         health: /health/ready
  ClickHouse    ${process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123'}  (database ${process.env.CLICKHOUSE_DATABASE ?? 'portrait'}: events, user_features, user_profiles, ...)
  Kafka         ${process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'}  topic profile.updated.v1 (bash scripts/kafka-tool.sh topics --list)
  logs          ${logsDir}
`);
  if (args.once) await shutdown(0);
  console.log('Services keep running; press Ctrl-C to stop everything the demo started.');
}

main().catch((e: unknown) => {
  console.error(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
  void shutdown(1);
});
