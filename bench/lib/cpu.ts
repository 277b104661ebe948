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
 * CPU used by a set of processes over time: sampled every `intervalMs` from `start()` to `stop()`,
 * then read for any window inside that span (`between`, linear between samples) — e.g. from a
 * moment the process itself reports, which the caller learns only afterwards.
 */
export class CpuMeter {
  private readonly samples: { at: number; cpu: Map<string, number> }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly targets: Record<string, { pid: number | null; tid?: number }>) {}

  private sample(): void {
    const cpu = new Map<string, number>();
    for (const [name, t] of Object.entries(this.targets)) {
      const s = t.pid === null ? null : cpuSeconds(t.pid, t.tid);
      if (s !== null) cpu.set(name, s);
    }
    this.samples.push({ at: Date.now(), cpu });
  }

  /** When sampling began (epoch ms). */
  get startedAt(): number {
    return this.samples[0]?.at ?? Number.NaN;
  }

  start(intervalMs = 50): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    return this;
  }

  stop(): this {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return this;
  }

  /** CPU seconds of each target between two times (epoch ms) inside the sampled span. */
  between(from: number, to: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of Object.keys(this.targets)) {
      const a = this.at(name, from);
      const b = this.at(name, to);
      if (a !== null && b !== null) out[name] = b - a;
    }
    return out;
  }

  private at(name: string, t: number): number | null {
    const xs = this.samples.filter((x) => x.cpu.has(name));
    if (xs.length === 0 || t < xs[0].at || t > xs[xs.length - 1].at) return null;
    let i = 1;
    while (i < xs.length && xs[i].at < t) i++;
    if (i === xs.length) return xs[xs.length - 1].cpu.get(name)!;
    const [p, q] = [xs[i - 1], xs[i]];
    const f = q.at === p.at ? 1 : (t - p.at) / (q.at - p.at);
    return p.cpu.get(name)! + f * (q.cpu.get(name)! - p.cpu.get(name)!);
  }
}
