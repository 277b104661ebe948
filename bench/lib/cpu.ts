import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Clock ticks per second of /proc's utime and stime (USER_HZ). */
let ticksPerSecond: number | null = null;
function hz(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** user + system CPU seconds of a process, or of one of its threads (`/proc/<pid>/task/<tid>`); null off Linux or once it is gone. */
export function cpuSeconds(pid: number, tid?: number): number | null {
  try {
    const stat = readFileSync(
      tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`,
      'utf8',
    );
    // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / hz();
  } catch {
    return null;
  }
}

/** The pids of the Kafka broker and ClickHouse server that `scripts/infra.sh up` started (its pid files), where they run. */
export function infraPids(root: string): { kafka: number | null; clickhouse: number | null } {
  const read = (file: string) => {
    try {
      const pid = Number(readFileSync(join(root, '.cache', file), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 && cpuSeconds(pid) !== null ? pid : null;
    } catch {
      return null;
    }
  };
  return { kafka: read('kafka/kafka.pid'), clickhouse: read('clickhouse/clickhouse.pid') };
}

/**
 * CPU used by a set of processes between `start()` and `stop()`: seconds per named process (and
 * per thread where one is named), for a CPU budget per unit of work.
 */
export class CpuMeter {
  private readonly first = new Map<string, number>();
  readonly used: Record<string, number> = {};

  constructor(private readonly targets: Record<string, { pid: number | null; tid?: number }>) {}

  private read(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, t] of Object.entries(this.targets)) {
      const s = t.pid === null ? null : cpuSeconds(t.pid, t.tid);
      if (s !== null) out.set(name, s);
    }
    return out;
  }

  start(): this {
    for (const [k, v] of this.read()) this.first.set(k, v);
    return this;
  }

  stop(): Record<string, number> {
    for (const [k, v] of this.read()) {
      const s = this.first.get(k);
      if (s !== undefined) this.used[k] = v - s;
    }
    return this.used;
  }
}
