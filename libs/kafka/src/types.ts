/** Our own small surface over the Kafka client (kafkajs is in maintenance mode; keep a swap possible). */
export interface OutgoingMessage {
  key?: string | Buffer | null;
  value: Buffer;
  headers?: Record<string, string>;
  /** Event time or production time, epoch ms. */
  timestamp?: number;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Broker/producer timestamp, epoch ms. */
  timestamp: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  config?: Record<string, string>;
}

export interface PartitionRef {
  topic: string;
  partition: number;
}
