import { Codecs, TOPIC_SPECS, Topics, UserAttributesInput } from '@app/contracts';

/** The topics a replay writes; created when missing (the services create theirs at start). */
export const REPLAY_TOPICS = [TOPIC_SPECS[Topics.ClickstreamRaw], TOPIC_SPECS[Topics.UserAttributes]];
import { KafkaBus, MessageProducer, OutgoingMessage } from '@app/kafka';
import type { Logger } from 'pino';
import type { CanonicalEventJson } from '../canonical-event';

/** One event ready to leave: its canonical JSON (HTTP) and its encoded raw ClickEvent (Kafka). */
export interface OutgoingEvent {
  json: CanonicalEventJson;
  key: string;
  avro: Buffer | null;
}

export interface SinkResult {
  /** Events the receiver took (HTTP: accepted + duplicates; Kafka: all acknowledged). */
  sent: number;
  duplicates: number;
  /** Events the ingestor rejected (HTTP only; Kafka rejections land on the DLQ). */
  rejected: number;
  rejectSamples: string[];
}

export interface EventSink {
  readonly needsAvro: boolean;
  send(batch: OutgoingEvent[]): Promise<SinkResult>;
  close(): Promise<void>;
}

/** Publishes raw ClickEvents on clickstream.raw.v1 (the ingestor validates them there). */
export class KafkaEventSink implements EventSink {
  readonly needsAvro = true;
  private constructor(
    private readonly producer: MessageProducer,
    private readonly topic: string,
  ) {}

  static async open(bus: KafkaBus): Promise<KafkaEventSink> {
    await bus.ensureTopics(REPLAY_TOPICS);
    // Idempotent: a retried send (e.g. right after topic creation) must not duplicate messages.
    return new KafkaEventSink(await bus.producer({ idempotent: true }), bus.topic(Topics.ClickstreamRaw));
  }

  async send(batch: OutgoingEvent[]): Promise<SinkResult> {
    // NOTE: no message timestamp: the broker's CreateTime would then be the event time, and a
    // 2016 dataset would fall outside the topic's time-based retention at once.
    const messages: OutgoingMessage[] = batch.map((e) => ({ key: e.key, value: e.avro as Buffer }));
    await this.producer.send(this.topic, messages);
    return { sent: batch.length, duplicates: 0, rejected: 0, rejectSamples: [] };
  }

  async close(): Promise<void> {
    await this.producer.disconnect();
  }
}

export interface HttpSinkOptions {
  url: string;
  apiKey?: string;
  logger: Logger;
  /** Give up after this long without an accepted request (ms, default 120 000). */
  patienceMs?: number;
  signal?: AbortSignal;
  /** Told (once per kind) when the sink starts waiting for the ingestor. */
  onWait?: (message: string) => void;
}

interface IngestResponse {
  accepted?: number;
  duplicates?: number;
  rejected?: { index: number; reason: string }[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** POSTs NDJSON batches to the ingestor, waiting out 429/503 (Retry-After) and restarts. */
export class HttpEventSink implements EventSink {
  readonly needsAvro = false;
  private readonly endpoint: string;
  private readonly told = new Set<string>();

  constructor(private readonly options: HttpSinkOptions) {
    this.endpoint = `${options.url.replace(/\/+$/, '')}/v1/events`;
  }

  async send(batch: OutgoingEvent[]): Promise<SinkResult> {
    const body = batch.map((e) => JSON.stringify(e.json)).join('\n') + '\n';
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
    if (this.options.apiKey) headers['x-api-key'] = this.options.apiKey;
    const patience = this.options.patienceMs ?? 120_000;
    const started = Date.now();
    let backoff = 250;
    for (;;) {
      if (this.options.signal?.aborted) throw new Error('aborted');
      let waitMs: number;
      try {
        const res = await fetch(this.endpoint, { method: 'POST', headers, body });
        const text = await res.text();
        if (res.status === 202 || res.status === 200) {
          const r = (text ? JSON.parse(text) : {}) as IngestResponse;
          const rejected = r.rejected ?? [];
          return {
            sent: batch.length - rejected.length,
            duplicates: r.duplicates ?? 0,
            rejected: rejected.length,
            rejectSamples: rejected.slice(0, 5).map((x) => `${batch[x.index]?.json.event_id ?? `#${x.index}`}: ${x.reason}`),
          };
        }
        if (res.status !== 429 && res.status !== 503) {
          throw new FatalHttpError(`ingestor answered ${res.status} to POST ${this.endpoint}: ${text.slice(0, 300)}`);
        }
        const retryAfter = Number(res.headers.get('retry-after'));
        waitMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoff;
        this.options.logger.warn({ event: 'replay_http_backpressure', status: res.status, wait_ms: waitMs }, 'ingestor busy, waiting');
        this.tell(`busy-${res.status}`, `ingestor answered ${res.status}: waiting (Retry-After) and retrying`);
      } catch (e) {
        if (e instanceof FatalHttpError) throw e;
        waitMs = backoff;
        // fetch() says only "fetch failed"; the cause has ECONNREFUSED and friends.
        const why = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
        this.options.logger.warn({ event: 'replay_http_unreachable', err: why, wait_ms: waitMs }, 'ingestor unreachable, retrying');
        this.tell('unreachable', `ingestor at ${this.endpoint} unreachable (${why}): retrying for up to ${Math.round(patience / 1000)} s`);
      }
      if (Date.now() - started + waitMs > patience) {
        throw new Error(`ingestor at ${this.endpoint} did not accept a batch for ${Math.round(patience / 1000)} s`);
      }
      await sleep(waitMs);
      backoff = Math.min(backoff * 2, 5000);
    }
  }

  private tell(kind: string, message: string): void {
    if (this.told.has(kind)) return;
    this.told.add(kind);
    this.options.onWait?.(message);
  }

  async close(): Promise<void> {}
}

export class FatalHttpError extends Error {
  override readonly name = 'FatalHttpError';
}

/** Publishes label rows as UserAttributes on user.attributes.v1, keyed by user. */
export async function publishUserAttributes(bus: KafkaBus, rows: readonly UserAttributesInput[], chunk = 5000): Promise<void> {
  if (rows.length === 0) return;
  await bus.ensureTopics(REPLAY_TOPICS);
  const producer = await bus.producer({ idempotent: true });
  try {
    const topic = bus.topic(Topics.UserAttributes);
    for (let i = 0; i < rows.length; i += chunk) {
      await producer.send(
        topic,
        rows.slice(i, i + chunk).map((r) => ({ key: r.user_id, value: Codecs.UserAttributes.encode(r) })),
      );
    }
  } finally {
    await producer.disconnect();
  }
}
