import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SERVICE_NODE_FLAGS } from '@app/config';
import { waitFor } from './wait-for';

export type AppName = 'ingestor' | 'feature-aggregator' | 'trainer' | 'profile-publisher';

export { SERVICE_NODE_FLAGS };

/**
 * One service running as its own process from the compiled build (dist/), as in production.
 * Keeps the tail of its output so a failing test can show why the service misbehaved.
 */
export class ServiceProcess {
  private child: ChildProcess | null = null;
  private output: string[] = [];
  exitCode: number | null = null;

  constructor(
    readonly app: AppName,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly root = repoRoot(),
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 60000): Promise<this> {
    const entry = join(this.root, 'dist', 'apps', this.app, 'src', 'main.js');
    // The services' production flags (as in package.json start:* and the Dockerfile), then
    // PORTRAIT_CHILD_NODE_ARGS: extra node flags (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
    const nodeArgs = [...SERVICE_NODE_FLAGS, ...(process.env.PORTRAIT_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean)];
    const child = spawn(process.execPath, [...nodeArgs, entry], {
      cwd: this.root,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    // PORTRAIT_CHILD_OUTPUT_DIR: also append the whole output to <dir>/<app>-<pid>.log (profiling,
    // --trace-gc); the in-memory tail keeps only the last 400 chunks.
    const outDir = process.env.PORTRAIT_CHILD_OUTPUT_DIR;
    const file = outDir ? join(outDir, `${this.app}-${child.pid}.log`) : undefined;
    const keep = (b: Buffer) => {
      if (file) appendFileSync(file, b);
      this.output.push(b.toString());
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, signal) => {
      this.exitCode = code ?? (signal ? 128 : 0);
    });
    const state = await waitFor(
      async () => {
        if (this.exitCode !== null) return 'exited';
        const r = await fetch(`http://127.0.0.1:${this.port}/health/ready`);
        return r.status === 200 ? 'ready' : undefined;
      },
      { timeoutMs, intervalMs: 200, what: `${this.app} ready on :${this.port}` },
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- ${this.app} log tail ---\n${this.logTail()}`);
    });
    if (state === 'exited') throw new Error(`${this.app} exited with ${this.exitCode} while starting:\n${this.logTail()}`);
    return this;
  }

  logTail(lines = 60): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }

  /** Graceful stop (SIGTERM), or `kill -9` when `hard`. Resolves when the process is gone. */
  async stop(hard = false, timeoutMs = 30000): Promise<void> {
    const child = this.child;
    if (!child || this.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(hard ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** The repository root (the folder holding package.json), from sources or from dist/. */
export function repoRoot(start = __dirname): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${start}`);
    dir = up;
  }
  return dir;
}
