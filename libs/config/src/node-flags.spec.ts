import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NODE_FLAGS } from './node-flags';

const ROOT = join(__dirname, '..', '..', '..');

describe('SERVICE_NODE_FLAGS', () => {
  it('are the flags of every start:* script and of the Dockerfile', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const starts = Object.entries(scripts).filter(([name]) => name.startsWith('start:'));
    expect(starts.length).toBe(4);
    for (const [, cmd] of starts) expect(cmd).toMatch(new RegExp(`^node ${SERVICE_NODE_FLAGS.join(' ')} scripts/run\\.js `));
    const docker = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(docker).toContain(`NODE_FLAGS="${SERVICE_NODE_FLAGS.join(' ')}"`);
  });
});
