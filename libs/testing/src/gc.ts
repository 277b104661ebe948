import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * A full, synchronous garbage collection, whether or not node was started with --expose-gc.
 * Jest runs test files in its own process without that flag, so `global.gc` is undefined there
 * and a memory test that calls `global.gc?.()` silently measures an un-collected heap: RSS then
 * climbs until V8's next major collection and a leak check becomes a coin toss on heap timing.
 * Setting the flag at run time and fetching `gc` from a fresh context is the documented way
 * (node's own test suite does the same).
 */
export function forceGc(): void {
  if (!gc) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gc = g;
    else {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    }
  }
  gc();
}

/** Process memory in MiB after a full collection: what a leak check should compare. */
export function memoryAfterGc(): { rssMb: number; heapUsedMb: number } {
  forceGc();
  const m = process.memoryUsage();
  const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed) };
}
