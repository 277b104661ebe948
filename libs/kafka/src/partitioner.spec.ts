import { fastDefaultPartitioner, murmur2 } from './partitioner';

// The reference implementation shipped with kafkajs (Java-compatible murmur2).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;

describe('murmur2', () => {
  it('equals kafkajs (and so the Java client) for strings and buffers of every length', () => {
    let x = 11;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rand() * 40);
      const buf = Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256)));
      expect(murmur2(buf)).toBe(kafkajsMurmur2(buf));
      const str = `user-${Math.floor(rand() * 1e9)}-${'é'.repeat(i % 3)}`;
      expect(murmur2(str)).toBe(kafkajsMurmur2(str));
    }
  });
});

describe('fastDefaultPartitioner', () => {
  const partitionMetadata = [0, 1, 2, 3, 4, 5].map((partitionId) => ({ partitionId, leader: partitionId === 4 ? -1 : 1, replicas: [1], isr: [1], partitionErrorCode: 0 }));

  it('keeps an explicit partition, hashes keys over all partitions, round-robins the rest over partitions with a leader', () => {
    const p = fastDefaultPartitioner();
    expect(p({ topic: 't', partitionMetadata, message: { key: 'k', value: 'v', partition: 3 } })).toBe(3);
    for (const key of ['u1', 'user-42', 'abc', '']) {
      expect(p({ topic: 't', partitionMetadata, message: { key, value: 'v' } })).toBe((kafkajsMurmur2(key) & 0x7fffffff) % 6);
    }
    const seen = new Set(Array.from({ length: 50 }, () => p({ topic: 't', partitionMetadata, message: { key: null, value: 'v' } })));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 5]);
  });
});
