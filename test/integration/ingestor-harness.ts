import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ingestorConfigSchema, loadConfig } from '@app/config';
import { Codecs, DeadLetter, Topics } from '@app/contracts';
import { KafkaBus } from '@app/kafka';
import { createLogger } from '@app/observability';
import { freePort, ReadMessage, TestNamespace, testNamespace, TopicReader } from '@app/testing';
import { startIngestor } from '../../apps/ingestor/src/ingestor.app';

/**
 * The ingestor started in-process (the same Nest module and Fastify set-up as `main`) on its own
 * topics and consumer groups, plus readers of its output topics.
 */
export class IngestorHarness {
  readonly ns: TestNamespace;
  app!: NestFastifyApplication;
  port = 0;
  events!: TopicReader;
  dlq!: TopicReader;
  bus!: KafkaBus;
  readonly key = 'test-ingest-key';

  constructor(
    label: string,
    private readonly extraEnv: Record<string, string> = {},
  ) {
    this.ns = testNamespace(label);
  }

  async start(): Promise<this> {
    this.port = await freePort();
    const config = loadConfig(ingestorConfigSchema, {
      ...this.ns.env,
      INGESTOR_PORT: String(this.port),
      PORTRAIT_INGEST_KEYS: this.key,
      ...this.extraEnv,
    });
    const logger = createLogger('ingestor-test', process.env.TEST_LOG_LEVEL ?? 'error');
    this.app = await startIngestor(config, logger, false);
    this.bus = new KafkaBus({ brokers: this.ns.brokers, clientId: 'ingestor-test', topicPrefix: this.ns.topicPrefix, logger });
    [this.events, this.dlq] = await Promise.all([
      new TopicReader(this.ns.brokers, this.topic(Topics.ClickstreamEvents)).start(),
      new TopicReader(this.ns.brokers, this.topic(Topics.ClickstreamDlq)).start(),
    ]);
    return this;
  }

  topic(base: string): string {
    return `${this.ns.topicPrefix}${base}`;
  }

  post(body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', 'x-api-key': this.key, ...headers },
      body,
    });
  }

  get(path: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${path}`);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.events?.stop(), this.dlq?.stop()]);
    await this.bus?.disconnect();
    await this.app?.close();
  }
}

export const eventIdOf = (m: ReadMessage): string => Codecs.ClickEvent.decode(m.value!).event_id;
export const deadLetterOf = (m: ReadMessage): DeadLetter => Codecs.DeadLetter.decode(m.value!);
