import { kafkajsPatches, kafkaSocketFactory } from './kafkajs-patches';
import { Kafka, logLevel, LogEntry, Admin, ITopicConfig } from 'kafkajs';
import type { Logger } from 'pino';
import { BatchConsumer, BatchConsumerOptions } from './batch-consumer';
import { MessageProducer, ProducerOptions } from './message-producer';
import type { TopicSpec } from './types';

export interface KafkaBusSettings {
  brokers: string[];
  clientId: string;
  /** Prepended to every topic name; lets tests and tenants share one cluster. */
  topicPrefix?: string;
  /** Prepended to every consumer group id. */
  groupPrefix?: string;
  logger: Logger;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Entry point to Kafka for a service: names topics and groups (with prefixes), creates producers
 * and batch consumers, and creates topics from their specs. Framework-free; Nest modules wrap it.
 */
export class KafkaBus {
  readonly kafka: Kafka;
  private readonly owned: { disconnect(): Promise<void> }[] = [];

  constructor(readonly settings: KafkaBusSettings) {
    const log = settings.logger.child({ component: 'kafkajs' });
    this.kafka = new Kafka({
      clientId: settings.clientId,
      brokers: settings.brokers,
      // Plain sockets reading into one buffer each, where the kafkajs patches are in (frame-reader.ts).
      socketFactory: kafkaSocketFactory(),
      connectionTimeout: 5000,
      requestTimeout: 30000,
      retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10000 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }: LogEntry) => {
          const { message, ...rest } = entry;
          // kafkajs logs every rebalance/reconnect as ERROR; keep them visible but not alarming.
          log[LEVELS[level] ?? 'info']({ event: 'kafka_client', ...rest }, message);
        },
    });
    log.debug({ event: 'kafkajs_patches', state: kafkajsPatches }, `kafkajs patches: ${kafkajsPatches}`);
  }

  topic(base: string): string {
    return `${this.settings.topicPrefix ?? ''}${base}`;
  }

  group(base: string): string {
    return `${this.settings.groupPrefix ?? ''}${base}`;
  }

  async producer(options: ProducerOptions = {}): Promise<MessageProducer> {
    const p = new MessageProducer(this.kafka, this.settings.logger, options);
    await p.connect();
    this.owned.push(p);
    return p;
  }

  /** `groupId` and `topics` are base names; prefixes are applied here. */
  consumer(options: BatchConsumerOptions): BatchConsumer {
    const c = new BatchConsumer(
      this.kafka,
      this.settings.logger,
      { ...options, groupId: this.group(options.groupId), topics: options.topics.map((t) => this.topic(t)) },
    );
    this.owned.push(c);
    return c;
  }

  async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  /** Creates missing topics (idempotent). Existing topics are left as they are. */
  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    await this.withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing: ITopicConfig[] = specs
        .map((s) => ({ ...s, name: this.topic(s.name) }))
        .filter((s) => !existing.has(s.name))
        .map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: 1,
          configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
        }));
      if (missing.length === 0) return;
      try {
        // NOTE: not kafkajs' waitForLeaders: its wait gives up when the broker answers the
        // metadata request with UNKNOWN_TOPIC_OR_PARTITION, which happens right after creation
        // while the new topic's metadata propagates (seen under load). We wait ourselves.
        await admin.createTopics({ topics: missing, waitForLeaders: false });
      } catch (e) {
        // Another replica may have created them concurrently.
        if (!(e instanceof Error && /already exists/i.test(e.message))) throw e;
      }
      await this.waitForLeaders(admin, missing.map((t) => t.topic));
    });
  }

  /**
   * Resolves once every partition of `topics` has a leader that answers as one (bounded; then
   * throws). Metadata names a leader a moment before that broker acts as leader: a produce in
   * that moment gets NOT_LEADER_FOR_PARTITION for some partitions, and kafkajs then resends the
   * whole request — duplicating what the other partitions had already stored. So the wait ends
   * only when a ListOffsets (answered by leaders only) succeeds for every partition.
   */
  private async waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const { topics: meta } = await admin.fetchTopicMetadata({ topics });
        const ready = topics.every((t) => {
          const m = meta.find((x) => x.name === t);
          return m !== undefined && m.partitions.length > 0 && m.partitions.every((p) => p.leader >= 0);
        });
        if (ready) {
          for (const t of topics) await admin.fetchTopicOffsets(t);
          return;
        }
        last = 'partitions without a leader';
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} not ready after ${timeoutMs} ms: ${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops consumers and flushes producers this bus created (reverse order of creation). */
  async disconnect(): Promise<void> {
    for (const c of this.owned.reverse()) await c.disconnect();
    this.owned.length = 0;
  }
}
