import type { OutgoingMessage } from '@app/kafka';

export type TopicBatch = { topic: string; messages: readonly OutgoingMessage[] };

/**
 * Most payload bytes (keys + values) in one produce request. kafkajs puts a request's messages
 * for one partition into one record batch, and the broker refuses a batch over
 * `message.max.bytes` (1 MiB by default) — a non-retriable error that would stall the raw
 * partition forever. Half of that leaves room for record overhead.
 */
export const MAX_REQUEST_BYTES = 512 * 1024;

/** Splits `batches` into produce requests of at most `maxBytes` payload each, in order. */
export function chunkByBytes(batches: readonly TopicBatch[], maxBytes = MAX_REQUEST_BYTES): TopicBatch[][] {
  const requests: TopicBatch[][] = [];
  let current: Map<string, OutgoingMessage[]> = new Map();
  let bytes = 0;
  const close = () => {
    if (current.size > 0) requests.push([...current].map(([topic, messages]) => ({ topic, messages })));
    current = new Map();
    bytes = 0;
  };
  for (const b of batches) {
    for (const m of b.messages) {
      const size = m.value.length + (m.key ? m.key.length : 0) + 64;
      if (bytes > 0 && bytes + size > maxBytes) close();
      let list = current.get(b.topic);
      if (!list) current.set(b.topic, (list = []));
      list.push(m);
      bytes += size;
    }
  }
  close();
  return requests;
}

/** Sends `batches` as byte-bounded requests, one after the other (keeps per-partition order). */
export async function sendChunked(
  producer: { sendMany(batches: readonly TopicBatch[]): Promise<void> },
  batches: readonly TopicBatch[],
  maxBytes = MAX_REQUEST_BYTES,
): Promise<void> {
  for (const request of chunkByBytes(batches, maxBytes)) await producer.sendMany(request);
}
