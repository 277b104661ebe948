import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PeerSize, runPeer } from './river';

/**
 * `npm run bench:peer -- [--samples <file.jsonl>] [--smoke|--full]`: River alone on a samples file
 * exported by a pipeline run (default: the newest reports/<timestamp>/peer-samples.jsonl).
 */
const ROOT = join(__dirname, '..', '..', '..');

function newestSamples(): string | undefined {
  const dir = join(ROOT, 'reports');
  if (!existsSync(dir)) return undefined;
  return readdirSync(dir)
    .filter((d) => /^\d{4}-/.test(d) && existsSync(join(dir, d, 'peer-samples.jsonl')))
    .sort()
    .map((d) => join(dir, d, 'peer-samples.jsonl'))
    .at(-1);
}

function main() {
  const { values } = parseArgs({ options: { samples: { type: 'string' }, smoke: { type: 'boolean', default: false }, full: { type: 'boolean', default: false } } });
  const samples = values.samples ?? newestSamples();
  if (!samples) throw new Error('no samples: pass --samples <file.jsonl> or run `npm run bench` (or bench:pipeline -- --peer-export <file>) first');
  const size: PeerSize = values.smoke ? 'smoke' : values.full ? 'full' : 'quick';
  const r = runPeer(samples, size, (m) => console.error(`[peer] ${m}`));
  console.log(JSON.stringify(r, null, 2));
  if (r.status !== 'ok') process.exit(1);
}

// Run directly or through scripts/run.js, which require()s the file.
if (require.main === module || process.argv[1] === __filename) main();
