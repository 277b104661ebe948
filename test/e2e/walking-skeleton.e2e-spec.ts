import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Codecs, ProfileUpdated, Topics } from '@app/contracts';
import { ClickHouseStore } from '@app/clickhouse';
import { freePort, ServiceProcess, testNamespace, TopicReader, waitFor } from '@app/testing';

/**
 * The whole path once, for real: an event POSTed to the ingestor lands on Kafka as Avro, the
 * aggregator stores it in ClickHouse and emits UserFeatures, the trainer trains a mini-batch and
 * publishes a model version, and the publisher emits a ProfileUpdated and serves it over HTTP.
 */
describe('walking skeleton (4 services, real Kafka + ClickHouse)', () => {
  const ns = testNamespace('e2e');
  const modelDir = `${tmpdir()}/portrait-models-${ns.id}`;
  const user = `u-${ns.id}`;
  const ingestKey = 'ingest-key-e2e';
  const readKey = 'read-key-e2e';
  let services: ServiceProcess[] = [];
  let ports: Record<string, number> = {};
  const readers: TopicReader[] = [];
  let store: ClickHouseStore;

  beforeAll(async () => {
    ports = {
      ingestor: await freePort(),
      'feature-aggregator': await freePort(),
      trainer: await freePort(),
      'profile-publisher': await freePort(),
    };
    const env = {
      ...ns.env,
      INGESTOR_PORT: String(ports.ingestor),
      AGGREGATOR_PORT: String(ports['feature-aggregator']),
      TRAINER_PORT: String(ports.trainer),
      PUBLISHER_PORT: String(ports['profile-publisher']),
      PORTRAIT_INGEST_KEYS: ingestKey,
      PORTRAIT_READ_KEYS: readKey,
      TRAINER_BATCH_SIZE: '2',
      TRAINER_MAX_WAIT_MS: '300',
      // Label at once (a few events within a minute never close a 24 h label window) and keep
      // this run's model versions apart from every other run's.
      TRAINER_LABEL_HORIZON_MS: '0',
      TRAINER_SAMPLE_SPACING_MS: '0',
      TRAINER_WATERMARK_LAG_MS: '0',
      TRAINER_MODEL_DIR: modelDir,
    };
    services = [
      new ServiceProcess('ingestor', ports.ingestor, env),
      new ServiceProcess('feature-aggregator', ports['feature-aggregator'], env),
      new ServiceProcess('trainer', ports.trainer, env),
      new ServiceProcess('profile-publisher', ports['profile-publisher'], env),
    ];
    // The ingestor creates the topics; the others start once it is ready.
    await services[0].start();
    await Promise.all(services.slice(1).map((s) => s.start()));
    store = new ClickHouseStore({ url: ns.clickhouseUrl, database: ns.database });
  });

  afterAll(async () => {
    await Promise.all(readers.map((r) => r.stop()));
    await Promise.all(services.map((s) => s.stop()));
    await store?.command(`DROP DATABASE IF EXISTS ${ns.database}`);
    await store?.close();
    rmSync(modelDir, { recursive: true, force: true });
  });

  const reader = async (topic: string) => {
    const r = await new TopicReader(ns.brokers, `${ns.topicPrefix}${topic}`).start();
    readers.push(r);
    return r;
  };

  const post = (body: string, headers: Record<string, string> = { 'x-api-key': ingestKey }) =>
    fetch(`http://127.0.0.1:${ports.ingestor}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', ...headers },
      body,
    });

  const event = (i: number, type: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ event_id: `${user}-e${i}`, user_id: user, event_type: type, ts: Date.now() - 60_000 + i, category: 'phones', price: 100, ...extra });

  it('rejects a request without the API key', async () => {
    const res = await post(event(0, 'view'), {});
    expect(res.status).toBe(401);
  });

  it('turns posted events into a served profile', async () => {
    const [events, features, models, profiles] = await Promise.all([
      reader(Topics.ClickstreamEvents),
      reader(Topics.UserFeatures),
      reader(Topics.ModelUpdates),
      reader(Topics.ProfileUpdated),
    ]);

    const res = await post([event(1, 'view'), event(2, 'cart_add'), event(3, 'buy', { quantity: 2 }), '{"event_id":"bad"}'].join('\n'));
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: number; rejected: { index: number; reason: string }[] };
    expect(body.accepted).toBe(3);
    expect(body.rejected).toEqual([{ index: 3, reason: expect.stringContaining('user_id') }]);

    const onTopic = await events.waitFor((m) => m.key?.toString() === user, 3);
    expect(onTopic.map((m) => Codecs.ClickEvent.decode(m.value!).event_type).sort()).toEqual(['cart_add', 'purchase', 'view']);

    const rows = await waitFor(
      async () => {
        const r = await store.query<{ c: string }>(`SELECT count() AS c FROM events FINAL WHERE user_key = '${user}'`);
        return Number(r[0]?.c) === 3 ? r : undefined;
      },
      { what: 'three events rows in ClickHouse', timeoutMs: 60000 },
    );
    expect(rows).toHaveLength(1);

    const feats = await features.waitFor(
      (m) => m.key?.toString() === user && Codecs.UserFeatures.decode(m.value!).event_count === 3,
      1,
      60000,
    );
    const f = Codecs.UserFeatures.decode(feats[0].value!).features;
    expect(f).toMatchObject({ views_30d: 1, cart_adds_30d: 1, purchases_30d: 1, spend_30d: 200 });

    const model = await models.waitFor(() => true, 1, 90000);
    expect(Codecs.ModelUpdate.decode(model[0].value!).trained_samples).toBeGreaterThan(0);

    // A later event is profiled with the model version that now exists.
    const res2 = await post(event(4, 'view'));
    expect(res2.status).toBe(202);
    const withModel = await profiles.waitFor((m) => {
      if (m.key?.toString() !== user) return false;
      const p = Codecs.ProfileUpdated.decode(m.value!);
      return p.model_version !== null && p.features.views_30d === 2;
    }, 1, 90000);
    const published = Codecs.ProfileUpdated.decode(withModel[0].value!);
    expect(published.predictions.purchase_propensity_24h).toEqual(expect.any(Number));

    const served = await waitFor(
      async () => {
        const r = await fetch(`http://127.0.0.1:${ports['profile-publisher']}/v1/profiles/${user}`, { headers: { 'x-api-key': readKey } });
        if (r.status !== 200) return undefined;
        const p = (await r.json()) as ProfileUpdated;
        return p.version >= published.version ? p : undefined;
      },
      { what: 'profile served by the lookup API' },
    );
    expect(served).toMatchObject({ user_id: user, features: { views_30d: 2, purchases_30d: 1 } });
    expect(served.model_version).toEqual(expect.any(String));

    const missing = await fetch(`http://127.0.0.1:${ports['profile-publisher']}/v1/profiles/nobody-${ns.id}`, { headers: { 'x-api-key': readKey } });
    expect(missing.status).toBe(404);
  });
});
