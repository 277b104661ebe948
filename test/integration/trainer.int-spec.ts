import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import pino from 'pino';
import { ClickHouseStore } from '@app/clickhouse';
import { Codecs, ModelMetrics, ModelUpdate, Topics, UserFeatures } from '@app/contracts';
import { KafkaBus, MessageProducer } from '@app/kafka';
import { loadProfileModel, userFeaturesFixture } from '@app/model';
import { freePort, ServiceProcess, testNamespace, TopicReader, waitFor } from '@app/testing';

const HOUR = 3_600_000;

/**
 * The trainer as its own process against the real Kafka and ClickHouse: known attributes and
 * UserFeatures in (two messages per user, 25 h apart in event time, so the 24 h label windows
 * close), a gated ModelUpdate out that loads for inference, prequential metrics on
 * model.metrics.v1 and in ClickHouse, and a restart that resumes from the saved version.
 */
describe('trainer (process, real Kafka + ClickHouse)', () => {
  const ns = testNamespace('trainer');
  const modelDir = mkdtempSync(join(tmpdir(), 'trainer-int-'));
  let port = 0;
  let trainer: ServiceProcess | null = null;
  let bus: KafkaBus;
  let producer: MessageProducer;
  let updates: TopicReader;
  let metrics: TopicReader;
  let store: ClickHouseStore;
  const T0 = Date.UTC(2016, 3, 1);

  const start = async () => {
    trainer = new ServiceProcess('trainer', port, {
      ...ns.env,
      TRAINER_PORT: String(port),
      TRAINER_MODEL_DIR: modelDir,
      TRAINER_BATCH_SIZE: '32',
      TRAINER_MAX_WAIT_MS: '300',
      TRAINER_VERSION_EVERY_MS: '1000',
      TRAINER_METRICS_EVERY_MS: '500',
      TRAINER_GATE_MIN_SAMPLES: '10',
      TRAINER_GATE_TOLERANCE: '0.5',
      TRAINER_WATERMARK_LAG_MS: '0',
      TRAINER_BACKEND: 'wasm',
    });
    await trainer.start();
  };

  /** User i: sex 1 ⇔ many views; buys within 24 h when i % 3 == 0; second message 25 h later. */
  const userMessages = (prefix: string, i: number, base: number): UserFeatures[] => {
    const sexy = i % 2 === 1;
    const first = userFeaturesFixture(`${prefix}${i}`, { views_30d: sexy ? 40 + (i % 5) : i % 3 }, base);
    first.category_scores = [{ key: sexy ? 'phones' : 'books', score: 1 }];
    const buys = i % 3 === 0;
    const second = userFeaturesFixture(
      `${prefix}${i}`,
      { views_30d: sexy ? 45 : 2, purchases_30d: buys ? 1 : 0, days_since_last_purchase: buys ? 1 / 24 : null },
      base + 25 * HOUR,
    );
    second.category_scores = [{ key: 'tv', score: 2 }];
    // A message inside the window reveals the categories touched then.
    const mid = userFeaturesFixture(`${prefix}${i}`, { views_30d: sexy ? 42 : 1, purchases_30d: buys ? 1 : 0, days_since_last_purchase: buys ? 0 : null }, base + 2 * HOUR);
    mid.category_scores = [{ key: 'tv', score: 1 }, { key: sexy ? 'phones' : 'books', score: 0.9 }];
    return [first, mid, second];
  };

  const sendUsers = async (prefix: string, n: number, base: number) => {
    const msgs = Array.from({ length: n }, (_, i) => userMessages(prefix, i, base + i * 1000));
    // Event-time order: all first messages, then the middle ones, then the window-closing ones.
    for (const k of [0, 1, 2]) {
      await producer.send(
        bus.topic(Topics.UserFeatures),
        msgs.map((m) => ({ key: m[k].user_id, value: Codecs.UserFeatures.encode(m[k]) })),
      );
    }
  };

  const metricValue = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // `name{service="trainer"} value`
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
  };

  beforeAll(async () => {
    await tf.setBackend('cpu');
    port = await freePort();
    await start();
    bus = new KafkaBus({ brokers: ns.brokers, clientId: 'trainer-int', topicPrefix: ns.topicPrefix, groupPrefix: ns.groupPrefix, logger: pino({ level: 'silent' }) });
    producer = await bus.producer();
    updates = await new TopicReader(ns.brokers, bus.topic(Topics.ModelUpdates)).start();
    metrics = await new TopicReader(ns.brokers, bus.topic(Topics.ModelMetrics)).start();
    store = new ClickHouseStore({ url: ns.clickhouseUrl, database: ns.database });
  });

  afterAll(async () => {
    await updates?.stop();
    await metrics?.stop();
    await producer?.disconnect();
    await bus?.disconnect();
    await trainer?.stop();
    await store?.command(`DROP DATABASE IF EXISTS ${ns.database}`);
    await store?.close();
    rmSync(modelDir, { recursive: true, force: true });
  });

  let first: ModelUpdate;

  it('learns from features + known attributes and publishes a gated, loadable ModelUpdate with metrics', async () => {
    const n = 64;
    await producer.send(
      bus.topic(Topics.UserAttributes),
      Array.from({ length: n }, (_, i) => ({
        key: `a${i}`,
        value: Codecs.UserAttributes.encode({ user_id: `a${i}`, attributes: { sex: String(i % 2), age: i % 4 === 0 ? null : String(i % 3) }, source: 'test', observed_at: T0, label_set: 'int' }),
      })),
    );
    await waitFor(async () => ((await metricValue('portrait_trainer_attribute_users')) === n ? true : undefined), { what: 'attributes consumed', timeoutMs: 30000 });
    await sendUsers('a', n, T0);

    const found = await updates.waitFor((m) => Codecs.ModelUpdate.decode(m.value!).trained_samples > 0, 1, 90000);
    first = Codecs.ModelUpdate.decode(found[0].value!);
    expect(first.heads.map((h) => `${h.name}:${h.kind}`)).toEqual(['age:softmax', 'sex:softmax', 'purchase_24h:sigmoid', 'next_categories:multilabel']);
    expect(first.heads.find((h) => h.name === 'sex')!.classes.sort()).toEqual(['0', '1']);
    expect(first.parent_version).toBeNull();
    // Attribute samples teach at once, so the first version may predate the delayed labels; the
    // next-24 h category vocabulary fills in as their windows close.
    const withCategories = await updates.waitFor((x) => {
      const u = Codecs.ModelUpdate.decode(x.value!);
      return ['tv', 'phones', 'books'].every((c) => u.heads.find((h) => h.name === 'next_categories')?.classes.includes(c));
    }, 1, 90000);
    expect(Codecs.ModelUpdate.decode(withCategories[0].value!).trained_samples).toBeGreaterThan(0);
    const model = await loadProfileModel(first);
    const [p] = model.predict([userFeaturesFixture('x', { views_30d: 44 })]);
    expect(Object.keys(p.attributes).sort()).toEqual(['age', 'sex']);
    expect(p.purchasePropensity).toBeGreaterThan(0);
    model.dispose();

    // A metrics message once both kinds of labels were scored (attribute samples come first).
    const scored = (x: { value: Buffer | null }) => {
      const heads = Codecs.ModelMetrics.decode(x.value!).heads;
      return heads.some((h) => h.head === 'sex' && h.n > 0) && heads.some((h) => h.head === 'purchase_24h' && h.n > 0);
    };
    const m = await metrics.waitFor(scored, 1, 60000);
    const mm: ModelMetrics = Codecs.ModelMetrics.decode(m[0].value!);
    const sex = mm.heads.find((h) => h.head === 'sex')!;
    expect(sex.majority_accuracy).toBeGreaterThan(0);
    expect(Object.keys(sex.per_class_recall).length).toBeGreaterThan(0);
    expect(mm.heads.find((h) => h.head === 'purchase_24h')!.n).toBeGreaterThan(0);

    const rows = await waitFor(
      async () => {
        const r = await store.query<{ c: string }>(`SELECT count() AS c FROM model_metrics WHERE head = 'sex' AND n > 0`);
        return Number(r[0]?.c) > 0 ? r : undefined;
      },
      { what: 'metrics rows in ClickHouse', timeoutMs: 30000 },
    );
    expect(rows).toHaveLength(1);
    const versions = await store.query<{ model_version: string; published: number }>(`SELECT model_version, published FROM model_versions FINAL ORDER BY model_version`);
    expect(versions[0]).toMatchObject({ model_version: first.model_version, published: 1 });
  });

  it('resumes from the latest saved version after a restart', async () => {
    await waitFor(async () => ((await metricValue('portrait_trainer_pending_samples')) >= 0 ? true : undefined), { what: 'metrics', timeoutMs: 5000 });
    await trainer!.stop();
    const saved = readdirSync(modelDir).filter((d) => /^v\d+$/.test(d)).sort();
    expect(saved.length).toBeGreaterThan(0);
    const lastSaved = saved[saved.length - 1];
    const seenBefore = updates.messages.length;

    await start();
    await sendUsers('b', 48, T0 + 3 * 24 * HOUR);
    const after = await updates.waitFor((m) => Number(Codecs.ModelUpdate.decode(m.value!).model_version.slice(1)) > Number(lastSaved.slice(1)), 1, 120000);
    const next = Codecs.ModelUpdate.decode(after[0].value!);
    expect(updates.messages.length).toBeGreaterThan(seenBefore);
    // Continues the saved lineage (parent = a version saved before the restart) and its sample count.
    expect(Number(next.parent_version!.slice(1))).toBeGreaterThanOrEqual(Number(lastSaved.slice(1)));
    expect(next.trained_samples).toBeGreaterThan(first.trained_samples);
  });
});
