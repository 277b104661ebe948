import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { MESSAGE_NAMES } from './generated/types';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('generated/types.ts', () => {
  it('is up to date with schemas/*.avsc (regenerate with: node scripts/gen-contract-types.js)', () => {
    let output = '';
    try {
      output = execFileSync(
        process.execPath,
        [path.join(ROOT, 'scripts', 'gen-contract-types.js'), '--check'],
        {
          cwd: ROOT,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string };
      throw new Error(
        `generated types are stale or the generator failed:\n${e.stderr ?? ''}${e.stdout ?? ''}`,
      );
    }
    expect(output).toMatch(/up to date/);
  });

  it('lists every message', () => {
    expect(MESSAGE_NAMES).toEqual([
      'ClickEvent',
      'DeadLetter',
      'ModelMetrics',
      'ModelUpdate',
      'ProfileUpdated',
      'UserAttributes',
      'UserFeatures',
    ]);
  });
});
