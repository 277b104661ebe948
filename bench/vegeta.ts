import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LookupLoadOptions, LookupLoadResult } from './lookup-load';
import { lcg } from './lib/lcg';

/**
 * vegeta (github.com/tsenart/vegeta), the lookup benchmark's load generator when Go is at hand:
 * an open-loop, constant-rate HTTP load generator in Go — request i leaves at start + i/rate
 * whatever earlier responses did (no coordinated omission), timed by the Go runtime on its own
 * threads. Our node open-loop generator (bench/lookup-load.ts) measures the same thing but adds
 * its own event loop to every latency: on this 2-core machine its send lag alone reached a
 * 4-7 ms p99, about as much as the server's whole budget.
 *
 * Provisioned like the rest of the bench's tools: `go install` of a pinned version into
 * .cache/bin (about a minute, once), or VEGETA_BIN. Without Go the bench falls back to the node
 * generator and says so.
 */
export const VEGETA_MODULE = 'github.com/tsenart/vegeta/v12@v12.13.0';

export function ensureVegeta(root: string, log: (m: string) => void): { bin?: string; why?: string } {
  if (process.env.VEGETA_BIN) return existsSync(process.env.VEGETA_BIN) ? { bin: process.env.VEGETA_BIN } : { why: `VEGETA_BIN=${process.env.VEGETA_BIN} does not exist` };
  if (process.env.BENCH_VEGETA === '0') return { why: 'BENCH_VEGETA=0' };
  const binDir = join(root, '.cache', 'bin');
  const bin = join(binDir, 'vegeta');
  if (existsSync(bin)) return { bin };
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    return { why: 'no Go toolchain on PATH to build vegeta' };
  }
  mkdirSync(binDir, { recursive: true });
  log(`building the load generator: go install ${VEGETA_MODULE} (once, into .cache/bin)`);
  try {
    execFileSync('go', ['install', VEGETA_MODULE], {
      env: { ...process.env, GOBIN: binDir, GOFLAGS: '-mod=mod', CGO_ENABLED: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 600_000,
    });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return { why: `go install ${VEGETA_MODULE} failed: ${(err.stderr?.toString() || err.message).trim().split('\n').slice(-3).join(' | ')}` };
  }
  return existsSync(bin) ? { bin } : { why: `go install ${VEGETA_MODULE} produced no ${bin}` };
}

/** vegeta's `report -type=json` (durations in nanoseconds). */
interface VegetaReport {
  latencies: { mean: number; '50th': number; '90th': number; '95th': number; '99th': number; max: number };
  requests: number;
  /** Requests sent per second. */
  rate: number;
  status_codes: Record<string, number>;
  errors: string[] | null;
}

/**
 * One constant-rate run: the same random users as the node generator (seeded), one target per
 * request, keep-alive, at most `connections` connections. Resolves in the node generator's shape.
 */
export async function vegetaRun(bin: string, o: LookupLoadOptions): Promise<LookupLoadResult> {
  const workDir = mkdtempSync(join(tmpdir(), 'bench-vegeta-'));
  try {
    return await attackAndReport(bin, o, workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function attackAndReport(bin: string, o: LookupLoadOptions, workDir: string): Promise<LookupLoadResult> {
  const rnd = lcg(o.seed);
  const total = Math.round(o.rate * o.seconds);
  const lines: string[] = [];
  for (let i = 0; i < total; i++) {
    lines.push(`GET http://127.0.0.1:${o.port}/v1/profiles/u${Math.floor(rnd() * o.users)}\nx-api-key: ${o.key}\n`);
  }
  const targets = join(workDir, `vegeta-targets-${o.seed}.txt`);
  const results = join(workDir, `vegeta-results-${o.seed}.bin`);
  writeFileSync(targets, lines.join('\n'));
  await new Promise<void>((resolve, reject) => {
    const attack = spawn(
      bin,
      ['attack', `-targets=${targets}`, `-rate=${o.rate}/s`, `-duration=${o.seconds}s`, '-keepalive=true', `-max-connections=${o.connections}`, '-workers=4', `-max-workers=${o.connections}`, `-output=${results}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    attack.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    attack.on('error', reject);
    attack.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vegeta attack exited ${code}: ${stderr}`))));
  });
  const json = await new Promise<string>((resolve, reject) =>
    execFile(bin, ['report', '-type=json', results], { maxBuffer: 16 * 1024 * 1024 }, (err: Error | null, stdout: string) => (err ? reject(err) : resolve(stdout))),
  );
  const r = JSON.parse(json) as VegetaReport;
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  const ok = Object.entries(r.status_codes).reduce((a, [code, n]) => a + (code.startsWith('2') ? n : 0), 0);
  const failed = r.status_codes['0'] ?? 0; // vegeta's code 0: no response (connection error, timeout)
  return {
    latency: { p50: ms(r.latencies['50th']), p90: ms(r.latencies['90th']), p99: ms(r.latencies['99th']), average: ms(r.latencies.mean), max: ms(r.latencies.max) },
    requests: { average: Math.round(r.rate * 10) / 10, total: r.requests },
    '2xx': ok,
    non2xx: r.requests - ok - failed,
    errors: failed,
    timeouts: 0,
  };
}
