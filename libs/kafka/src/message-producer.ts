import { CompressionTypes, Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
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
    if (messages.length === 0) return;
    await this.producer.send({ topic, acks: -1, compression: CompressionTypes.None, messages: messages.map(toKafkajs) });
  }

  /** One request for several topics (e.g. outputs + dead letters of one batch). */
  async sendMany(batches: readonly { topic: string; messages: readonly OutgoingMessage[] }[]): Promise<void> {
    const topicMessages = batches
      .filter((b) => b.messages.length > 0)
      .map((b) => ({ topic: b.topic, messages: b.messages.map(toKafkajs) }));
    if (topicMessages.length === 0) return;
    await this.producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages });
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

function toKafkajs(m: OutgoingMessage) {
  return {
    key: m.key ?? null,
    value: m.value,
    headers: m.headers,
    timestamp: m.timestamp !== undefined ? String(m.timestamp) : undefined,
  };
}
