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
  /**
   * The record's bytes without a Buffer per field, where the consumer has them (records of
   * uncompressed batches without headers): for hot paths that read many records (the aggregator).
   */
  readonly raw?: RawRecord;
}

/** A fetched record in its batch's bytes: key and value are `bytes[start, end)`, start -1 for null. */
export interface RawRecord {
  readonly bytes: Buffer;
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly valueStart: number;
  readonly valueEnd: number;
  /** The offset as a number (a safe integer). */
  readonly offsetNumber: number;
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
