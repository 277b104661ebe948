import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';

/** CPU ms of the fixed work (see hostSpeed), or why it could not be measured. */
export type HostSpeed = { js_ms: number; sha256_ms: number } | { error: string };

/**
 * CPU milliseconds a fresh Node process takes for two fixed pieces of work, best of 5 each: a
 * JavaScript one (integer arithmetic into a typed array, then sorted) and a native one (SHA-256
 * of 32 MiB). The same code ran up to ~3× faster on one of this project's 2-core VMs than on
 * another of the same shape: reports carry these figures so that their numbers can be set beside
 * another host's. A fresh process, because the caller's heap (after a benchmark that held a million
 * users) slowed the same work ~1.7×. Never throws: a report written after minutes of
 * benchmarking carries the error instead.
 */
export function hostSpeed(): HostSpeed {
  try {
    return JSON.parse(
      execFileSync(process.execPath, [__filename], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as HostSpeed;
  } catch (err) {
    return {
      error: `host speed not measured: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    };
  }
}

function measure(repeats = 5): { js_ms: number; sha256_ms: number } {
  const cpuMs = (work: () => void) => {
    let best = Infinity;
    for (let r = 0; r < repeats; r++) {
      const t0 = process.cpuUsage();
      work();
      const t = process.cpuUsage(t0);
      best = Math.min(best, (t.user + t.system) / 1000);
    }
    return Math.round(best * 10) / 10;
  };
  const js = () => {
    // xorshift32 into a typed array, then sorted: integer arithmetic, memory, a builtin.
    const a = new Float64Array(1_000_000);
    let x = 2463534242;
    for (let i = 0; i < a.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      a[i] = x >>> 0;
    }
    a.sort();
    if (!(a[0] <= a[a.length - 1])) throw new Error('hostSpeed: unsorted');
  };
  const block = Buffer.alloc(32 * 2 ** 20, 7);
  const sha = () => {
    createHash('sha256').update(block).digest();
  };
  return { js_ms: cpuMs(js), sha256_ms: cpuMs(sha) };
}

if (require.main === module) process.stdout.write(JSON.stringify(measure()));
