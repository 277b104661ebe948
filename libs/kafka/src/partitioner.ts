import type { ICustomPartitioner, PartitionerArgs } from 'kafkajs';

/**
 * Murmur2 of the key bytes, as Kafka's Java client (and kafkajs' default partitioner) computes it:
 * the same 32-bit signed result, so keys land on the same partitions as with any other client.
 * kafkajs emulates the 32-bit arithmetic with 64-bit `Long` objects (several allocations per
 * byte-quad: ~7 % of the aggregator's allocations in a sampling profile); `Math.imul` is exact.
 */
export function murmur2(key: Buffer | string): number {
  const data = typeof key === 'string' ? Buffer.from(key) : key;
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const toPositive = (x: number) => x & 0x7fffffff;

/**
 * kafkajs' default partitioner (Java-compatible: explicit partition, else murmur2(key) over all
 * partitions, else round robin over partitions with a leader) without its per-message costs:
 * `Long` arithmetic in murmur2 and filtering the partition list for every message.
 */
export const fastDefaultPartitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  const available = new WeakMap<object, PartitionerArgs['partitionMetadata']>();
  return ({ topic, partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const numPartitions = partitionMetadata.length;
    if (message.key !== null && message.key !== undefined) return toPositive(murmur2(message.key)) % numPartitions;
    let counter = counters.get(topic);
    if (counter === undefined) counter = Math.floor(Math.random() * 2 ** 32);
    counters.set(topic, ++counter);
    let up = available.get(partitionMetadata);
    if (!up) available.set(partitionMetadata, (up = partitionMetadata.filter((p) => p.leader >= 0)));
    return up.length > 0 ? up[toPositive(counter) % up.length].partitionId : toPositive(counter) % numPartitions;
  };
};
