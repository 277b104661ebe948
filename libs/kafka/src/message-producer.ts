import { CompressionTypes, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { fastDefaultPartitioner } from './partitioner';
import type { OutgoingMessage } from './types';

export interface ProducerOptions {
  /** Idempotent producer (one in-flight request per broker): no duplicates on producer retries. */
  idempotent?: boolean;
}

/** Acknowledged writes: a resolved `send` means the broker has the messages (acks = all). */
export class MessageProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(kafka: Kafka, private readonly logger: Logger, options: ProducerOptions) {
    this.producer = kafka.producer({
      // kafkajs' default (Java-compatible) partitioning without its per-message allocations.
      createPartitioner: fastDefaultPartitioner,
      allowAutoTopicCreation: false,
      idempotent: options.idempotent ?? false,
      maxInFlightRequests: options.idempotent ? 1 : undefined,
    });
    this.producer.on('producer.disconnect', () => {
      this.connected = false;
    });
    this.producer.on('producer.connect', () => {
      this.connected = true;
    });
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    await this.sendMany([{ topic, messages }]);
  }

  /**
   * Outputs of one batch for several topics (e.g. outputs + dead letters), in as few requests as
   * the broker accepts: requests are split at `MAX_REQUEST_BYTES` because a record batch over the
   * broker's `message.max.bytes` (1 MiB by default) is rejected without retry — which would stall
   * the consumer that produces it forever. Requests go out in order, so per-partition order holds.
   */
  async sendMany(batches: readonly { topic: string; messages: readonly OutgoingMessage[] }[]): Promise<void> {
    for (const request of splitRequests(batches, MAX_REQUEST_BYTES)) {
      await this.producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: request });
    }
  }

  async disconnect(): Promise<void> {
    try {
      await this.producer.disconnect();
    } catch (e) {
      this.logger.warn({ event: 'producer_disconnect_failed', err: e }, 'producer disconnect failed');
    }
    this.connected = false;
  }
}

/** Upper bound of one produce request's payload (keys + values + headers), well under 1 MiB. */
export const MAX_REQUEST_BYTES = 512 * 1024;

const sizeOf = (m: OutgoingMessage) =>
  m.value.length +
  (m.key ? (typeof m.key === 'string' ? Buffer.byteLength(m.key) : m.key.length) : 0) +
  Object.entries(m.headers ?? {}).reduce((n, [k, v]) => n + k.length + v.length, 0) +
  64;

/** Groups messages into requests of at most `maxBytes` (a single larger message goes alone). */
export function splitRequests(
  batches: readonly { topic: string; messages: readonly OutgoingMessage[] }[],
  maxBytes: number,
): { topic: string; messages: ReturnType<typeof toKafkajs>[] }[][] {
  const requests: { topic: string; messages: ReturnType<typeof toKafkajs>[] }[][] = [];
  let current: { topic: string; messages: ReturnType<typeof toKafkajs>[] }[] = [];
  let bytes = 0;
  for (const b of batches) {
    let entry: { topic: string; messages: ReturnType<typeof toKafkajs>[] } | null = null;
    for (const m of b.messages) {
      const size = sizeOf(m);
      if (bytes > 0 && bytes + size > maxBytes) {
        requests.push(current);
        current = [];
        bytes = 0;
        entry = null;
      }
      if (!entry) {
        entry = { topic: b.topic, messages: [] };
        current.push(entry);
      }
      entry.messages.push(toKafkajs(m));
      bytes += size;
    }
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

function toKafkajs(m: OutgoingMessage) {
  return {
    key: m.key ?? null,
    value: m.value,
    headers: m.headers,
    timestamp: m.timestamp !== undefined ? String(m.timestamp) : undefined,
  };
}
