import { execFileSync } from 'node:child_process';
import { groupMessagesPerPartition } from './kafkajs-patches';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const built = existsSync(join(root, 'dist', 'libs', 'kafka', 'src', 'kafkajs-patches.js'));

describe('kafkajs patches', () => {
  // In a plain node process, with the built code, as the services run it: under jest whether the
  // patches apply depends on what a test file loaded first (they do when @app/kafka comes before
  // kafkajs — record-decoder.spec.ts guards against comparing the patch with itself). npm test
  // builds before jest runs.
  (built ? it : it.skip)('produces byte-identical produce requests, and applies in a service process', () => {
    const out = execFileSync(process.execPath, [join(root, 'scripts', 'check-kafkajs-patches.js')], { encoding: 'utf8' });
    expect(out).toMatch(/kafkajs patches: patched; 20 produce requests, each also framed, \d+ bytes, 20 groupings, identical/);
  });
});

describe(groupMessagesPerPartition.name, () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const original = require('kafkajs/src/producer/groupMessagesPerPartition') as typeof groupMessagesPerPartition;

  it('groups like kafkajs: same partitions, messages in input order', () => {
    const partitionMetadata = [0, 1, 2];
    const messages = Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: String(i) }));
    const partitioner = ({ message }: { message: unknown }) => Number((message as { value: string }).value) % 3;
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata, messages, partitioner })).toEqual(original({ topic: 't', partitionMetadata, messages, partitioner }));
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner })).toEqual({});
  });
});
