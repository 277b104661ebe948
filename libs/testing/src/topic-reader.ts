import { Consumer, Kafka, logLevel } from 'kafkajs';
import { randomBytes } from 'node:crypto';

export interface ReadMessage {
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning with its own consumer group and collects messages, so tests
 * can wait for messages that match. Fails the wait at once if the consumer crashes for good.
 */
export class TopicReader {
  readonly messages: ReadMessage[] = [];
  private consumer: Consumer;
  private crash: Error | null = null;
  private listeners = new Set<() => void>();
  private readonly seen = new Set<string>();

  constructor(brokers: string[], readonly topic: string) {
    const kafka = new Kafka({ clientId: 'test-reader', brokers, logLevel: logLevel.NOTHING });
    this.consumer = kafka.consumer({ groupId: `test-reader-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 100 });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      // A retriable error (e.g. "group coordinator is not available" while the broker moves
      // a coordinator) makes kafkajs restart the consumer itself: only a final crash fails waits.
      if (e.payload.restart) return;
      this.crash = e.payload.error;
      this.notify();
    });
  }

  async start(): Promise<this> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ partition, message }) => {
        // After a restart kafkajs may deliver again from the last committed offset: keep each once.
        const at = `${partition}:${message.offset}`;
        if (this.seen.has(at)) return;
        this.seen.add(at);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
        this.messages.push({ partition, offset: message.offset, key: message.key ?? null, value: message.value ?? null, headers });
        this.notify();
      },
    });
    return this;
  }

  /** Resolves with the matching messages once `count` of them have arrived. */
  waitFor(match: (m: ReadMessage) => boolean, count = 1, timeoutMs = 30000): Promise<ReadMessage[]> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.crash) return done(new Error(`reader of ${this.topic} crashed: ${this.crash.message}`));
        const found = this.messages.filter(match);
        if (found.length >= count) return done(null, found);
      };
      const timer = setTimeout(
        () => done(new Error(`timed out after ${timeoutMs} ms waiting for ${count} message(s) on ${this.topic}; saw ${this.messages.length} in all, ${this.messages.filter(match).length} matching`)),
        timeoutMs,
      );
      const done = (err: Error | null, found?: ReadMessage[]) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (err) reject(err);
        else resolve(found ?? []);
      };
      this.listeners.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private notify() {
    for (const l of [...this.listeners]) l();
  }
}
