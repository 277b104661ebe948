import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The River peer: bench/peer/river_prequential.py run in a project-local virtualenv
 * (.cache/venv-river, river pinned), created and filled on first use and reused after.
 */
export const RIVER_VERSION = '0.26.1';
const ROOT = join(__dirname, '..', '..', '..');

export interface PeerOutcome {
  status: string;
  river: unknown;
}

export type PeerSize = 'smoke' | 'quick' | 'full';

export function riverPython(log: (m: string) => void = () => undefined): string {
  const venv = join(ROOT, '.cache', 'venv-river');
  const py = join(venv, 'bin', 'python');
  const ok = () => {
    try {
      return execFileSync(py, ['-c', 'import river; print(river.__version__)'], { encoding: 'utf8' }).trim() === RIVER_VERSION;
    } catch {
      return false;
    }
  };
  if (existsSync(py) && ok()) return py;
  log(`creating the River virtualenv (.cache/venv-river, river==${RIVER_VERSION})`);
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(join(venv, 'bin', 'pip'), ['install', '-q', `river==${RIVER_VERSION}`], { stdio: 'inherit' });
  if (!ok()) throw new Error('river did not import after installing it');
  return py;
}

export function peerArgs(size: PeerSize): string[] {
  if (size === 'smoke') return ['--limit', '500', '--budget-s', '5', '--n-models', '2', '--window', '200'];
  if (size === 'quick') return ['--limit', '10000', '--budget-s', '10', '--n-models', '5'];
  return ['--limit', '40000', '--budget-s', '45', '--n-models', '10'];
}

/** Runs River's prequential evaluation on a samples file; never throws (the status says what went wrong). */
export function runPeer(samples: string, size: PeerSize, log: (m: string) => void = () => undefined): PeerOutcome {
  try {
    const py = riverPython(log);
    const out = execFileSync(py, [join(ROOT, 'bench', 'peer', 'river_prequential.py'), '--samples', samples, ...peerArgs(size)], {
      encoding: 'utf8',
      maxBuffer: 32 * 1024 * 1024,
      timeout: 30 * 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return { status: 'ok', river: JSON.parse(out) as unknown };
  } catch (e) {
    return { status: `unavailable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, river: null };
  }
}
