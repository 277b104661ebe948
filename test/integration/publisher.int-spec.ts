import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ClickHouseStore } from '@app/clickhouse';
import { Codecs, exampleModelUpdate, exampleUserFeatures, ModelUpdate, ProfileUpdated, Topics, UserFeatures } from '@app/contracts';
import { KafkaBus, MessageProducer } from '@app/kafka';
import { exportModel, FEATURE_VECTOR_WIDTH } from '@app/model';
import { freePort, ServiceProcess, testNamespace, TopicReader, waitFor } from '@app/testing';

/**
 * The publisher as its own process against the real Kafka and ClickHouse: features in, profiles
 * out (topic, ClickHouse, lookup API), publish on change, model versions (good and corrupt),
 * segment rules reloaded from a file, known attributes, restarts, hostile input, and the wire
 * format decoded by Apache Avro's Python library.
 */
describe('profile publisher (process, real Kafka + ClickHouse)', () => {
  const ns = testNamespace('pub');
  const readKey = 'read-key-pub';
  const dir = mkdtempSync(join(tmpdir(), 'publisher-int-'));
  const segmentsFile = join(dir, 'segments.json');
  const users = { a: `a-${ns.id}`, b: `b-${ns.id}`, c: `c-${ns.id}` };
  let port = 0;
  let publisher: ServiceProcess;
  let bus: KafkaBus;
  let producer: MessageProducer;
  let profiles: TopicReader;
  let dlq: TopicReader;
  let store: ClickHouseStore;

  const writeSegments = (segments: unknown[]) => writeFileSync(segmentsFile, JSON.stringify({ segments }));
  const buyer = { name: 'buyer', rule: { all: [{ field: 'features.purchases_30d', op: '>=', value: 1 }] } };
  const start = async () => {
    publisher = new ServiceProcess('profile-publisher', port, {
      ...ns.env,
      PUBLISHER_PORT: String(port),
      PORTRAIT_READ_KEYS: readKey,
      PUBLISHER_SEGMENTS_FILE: segmentsFile,
      PUBLISHER_SEGMENTS_POLL_MS: '200',
    });
    await publisher.start();
  };
  const get = (path: string, key: string | null = readKey) =>
    fetch(`http://127.0.0.1:${port}${path}`, { headers: key === null ? {} : { 'x-api-key': key } });

  const features = (user: string, over: Partial<UserFeatures['features']> = {}, asOf = Date.now() - 60_000): UserFeatures => {
    const f = exampleUserFeatures();
    return {
      ...f,
      user_id: user,
      as_of: asOf,
      ingested_at: Date.now(),
      emitted_at: Date.now(),
      features: { ...f.features, last_event_at: asOf, first_event_at: asOf - 40 * 86_400_000, ...over },
    };
  };
  const sendFeatures = (...list: UserFeatures[]) =>
    producer.send(
      bus.topic(Topics.UserFeatures),
      list.map((f) => ({ key: f.user_id, value: Codecs.UserFeatures.encode(f) })),
    );
  const profilesOf = (user: string) =>
    profiles.messages.filter((m) => m.key?.toString() === user).map((m) => Codecs.ProfileUpdated.decode(m.value!));
  const waitProfile = async (user: string, match: (p: ProfileUpdated) => boolean, timeoutMs = 30000) => {
    const found = await profiles.waitFor((m) => m.key?.toString() === user && match(Codecs.ProfileUpdated.decode(m.value!)), 1, timeoutMs);
    return Codecs.ProfileUpdated.decode(found[found.length - 1].value!);
  };

  async function modelUpdate(version: string): Promise<ModelUpdate> {
    // The plain heads format: outputs concatenated in heads order (gender softmax, purchase sigmoid).
    const input = tf.input({ shape: [FEATURE_VECTOR_WIDTH] });
    const gender = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(input) as tf.SymbolicTensor;
    const buy = tf.layers.dense({ units: 1, activation: 'sigmoid' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [gender, buy] });
    const art = await exportModel(model);
    model.dispose();
    return {
      ...exampleModelUpdate(),
      model_version: version,
      topology_json: art.topologyJson,
      weight_specs_json: art.weightSpecsJson,
      weights: art.weights,
      normalization_json: '{}',
      heads: [
        { name: 'gender', kind: 'softmax', classes: ['f', 'm'], decision_bias: [] },
        { name: 'purchase_24h', kind: 'sigmoid', classes: ['yes'], decision_bias: [] },
      ],
    };
  }

  beforeAll(async () => {
    port = await freePort();
    writeSegments([buyer]);
    await start();
    bus = new KafkaBus({ brokers: ns.brokers, clientId: 'publisher-int', topicPrefix: ns.topicPrefix, groupPrefix: ns.groupPrefix, logger: pino({ level: 'silent' }) });
    producer = await bus.producer();
    profiles = await new TopicReader(ns.brokers, bus.topic(Topics.ProfileUpdated)).start();
    dlq = await new TopicReader(ns.brokers, bus.topic(Topics.ClickstreamDlq)).start();
    store = new ClickHouseStore({ url: ns.clickhouseUrl, database: ns.database });
  });

  afterAll(async () => {
    await profiles?.stop();
    await dlq?.stop();
    await producer?.disconnect();
    await bus?.disconnect();
    await publisher?.stop();
    await store?.command(`DROP DATABASE IF EXISTS ${ns.database}`);
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes a first profile without a model ("no prediction") and serves it', async () => {
    await sendFeatures(features(users.a, { purchases_30d: 1 }));
    const p = await waitProfile(users.a, () => true);
    expect(p).toMatchObject({ version: 1, model_version: null, segments: ['buyer'], predictions: { purchase_propensity_24h: null } });
    const served = await waitFor(async () => {
      const r = await get(`/v1/profiles/${users.a}`);
      return r.status === 200 ? ((await r.json()) as ProfileUpdated) : undefined;
    }, { what: 'profile served' });
    expect(served).toMatchObject({ user_id: users.a, version: 1 });
    expect((await get(`/v1/profiles/${users.a}`, null)).status).toBe(401);
    expect((await get(`/v1/profiles/nobody-${ns.id}`)).status).toBe(404);
    const list = (await (await get('/v1/profiles?limit=5')).json()) as { profiles: ProfileUpdated[] };
    expect(list.profiles[0]?.user_id).toBe(users.a);
  });

  it('answers hostile ids with a clear 400 and keeps running', async () => {
    for (const id of ['..%2F..%2Fetc%2Fpasswd', "x'%20OR%201%3D1%20--", 'a%00b', 'x'.repeat(10 * 1024), '%3Cscript%3E']) {
      const r = await get(`/v1/profiles/${id}`);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toBe('invalid_user_id');
    }
    expect((await get('/v1/profiles?limit=0')).status).toBe(400);
    expect((await get(`/v1/segments/buyer/members?cursor=${encodeURIComponent("' OR 1=1")}`)).status).toBe(400);
    expect((await get('/health/live')).status).toBe(200);
  });

  it('publishes only material changes', async () => {
    const before = profilesOf(users.a).length;
    await sendFeatures(features(users.a, { purchases_30d: 1, views_30d: 204 })); // +1 view of 203: not material
    await sendFeatures(features(users.a, { purchases_30d: 2 })); // a second purchase: material
    const p = await waitProfile(users.a, (x) => x.features.purchases_30d === 2);
    expect(p.version).toBe(2);
    expect(p.changed_fields).toContain('features');
    expect(profilesOf(users.a)).toHaveLength(before + 1);
  });

  it('dead-letters undecodable features and keeps going', async () => {
    await producer.send(bus.topic(Topics.UserFeatures), [{ key: users.c, value: Buffer.from('\xc3\x01garbage-bytes-here', 'latin1') }]);
    const dead = await dlq.waitFor((m) => Codecs.DeadLetter.decode(m.value!).stage === 'decode_features');
    expect(Codecs.DeadLetter.decode(dead[0].value!)).toMatchObject({ service: 'profile-publisher', reason_code: expect.any(String) });
    await sendFeatures(features(users.c, { purchases_30d: 0 }));
    await waitProfile(users.c, () => true);
  });

  it('loads a model version atomically, rejects corrupt ones and keeps the previous version', async () => {
    const good = await modelUpdate('m-good');
    await producer.send(bus.topic(Topics.ModelUpdates), [{ key: null, value: Buffer.from('not avro at all') }]);
    await producer.send(bus.topic(Topics.ModelUpdates), [{ key: null, value: Codecs.ModelUpdate.encode(good) }]);
    await sendFeatures(features(users.b, { purchases_30d: 0 }, Date.now() - 50_000));
    const withModel = await waitFor(async () => {
      await sendFeatures(features(users.b, { views_30d: Math.floor(Math.random() * 999) }, Date.now() - 50_000));
      return profilesOf(users.b).find((p) => p.model_version === 'm-good');
    }, { what: 'a profile stamped with m-good', intervalMs: 500 });
    expect(withModel.attributes.gender).toMatchObject({ source: 'predicted', value: expect.stringMatching(/^[fm]$/), confidence: expect.any(Number) });
    expect(withModel.predictions.purchase_propensity_24h).toEqual(expect.any(Number));

    const corrupt = { ...(await modelUpdate('m-corrupt')), weights: Buffer.from([1, 2, 3]) };
    await producer.send(bus.topic(Topics.ModelUpdates), [{ key: null, value: Codecs.ModelUpdate.encode(corrupt) }]);
    await waitFor(async () => {
      const text = await (await get('/metrics')).text();
      return /portrait_publisher_model_rejections_total\{[^}]*\} 2/.test(text) ? true : undefined;
    }, { what: 'two model rejections counted' });
    await sendFeatures(features(users.b, { purchases_30d: 5 }, Date.now() - 40_000));
    const after = await waitProfile(users.b, (p) => p.features.purchases_30d === 5);
    expect(after.model_version).toBe('m-good');
    expect((await get('/health/ready')).status).toBe(200);
  });

  it('re-scores remembered users when a new model version loads, without waiting for their next event', async () => {
    const before = profilesOf(users.a).length;
    await producer.send(bus.topic(Topics.ModelUpdates), [{ key: null, value: Codecs.ModelUpdate.encode(await modelUpdate('m-next')) }]);
    const rescored = await waitProfile(users.a, (p) => p.model_version === 'm-next');
    expect(rescored.attributes.gender).toMatchObject({ source: 'predicted' });
    expect(rescored.changed_fields).not.toContain('features');
    expect(profilesOf(users.a).length).toBeGreaterThan(before);
    const served = await waitFor(async () => {
      const r = await get(`/v1/profiles/${users.a}`);
      const p = r.status === 200 ? ((await r.json()) as ProfileUpdated) : undefined;
      return p?.model_version === 'm-next' ? p : undefined;
    }, { what: 'the re-scored profile served' });
    expect(served.version).toBe(rescored.version);
  });

  it('reloads segment rules without restart, rejects malformed ones and keeps the previous set', async () => {
    writeSegments([buyer, { name: 'broken', rule: { field: 'features.views_30d', op: 'matches', value: 1 } }]);
    await waitFor(async () => {
      const r = (await (await get('/v1/segments')).json()) as { last_error: { rule: string; reason: string } | null };
      return r.last_error?.rule === 'broken' ? r : undefined;
    }, { what: 'malformed rule reported' });
    const kept = (await (await get('/v1/segments')).json()) as { segments: { name: string }[] };
    expect(kept.segments.map((s) => s.name)).toEqual(['buyer']);

    writeSegments([buyer, { name: 'heavy_viewer', rule: { field: 'features.views_30d', op: '>=', value: 1000 } }]);
    await waitFor(async () => {
      const r = (await (await get('/v1/segments')).json()) as { segments: { name: string }[] };
      return r.segments.length === 2 ? r : undefined;
    }, { what: 'new rules loaded' });
    await sendFeatures(features(users.a, { purchases_30d: 2, views_30d: 3000 }));
    const p = await waitProfile(users.a, (x) => x.segments.includes('heavy_viewer'));
    expect(p.segments).toEqual(['buyer', 'heavy_viewer']);
    expect(p.changed_fields).toContain('segments.heavy_viewer');

    const page1 = (await (await get('/v1/segments/buyer/members?limit=1')).json()) as { members: string[]; next_cursor: string | null };
    expect(page1.members).toHaveLength(1);
    const page2 = (await (await get(`/v1/segments/buyer/members?limit=10&cursor=${page1.next_cursor}`)).json()) as { members: string[] };
    expect([...page1.members, ...page2.members].sort()).toEqual([users.a, users.b].sort());
    expect((await get('/v1/segments/nope/members')).status).toBe(404);
    const history = await store.query<{ user_id: string; action: string }>(
      `SELECT user_id, toString(action) AS action FROM segment_history FINAL WHERE segment = 'heavy_viewer'`,
    );
    expect(history).toEqual([{ user_id: users.a, action: 'enter' }]);
  });

  it('applies known attributes from user.attributes.v1 as a new version', async () => {
    await producer.send(bus.topic(Topics.UserAttributes), [
      { key: users.b, value: Codecs.UserAttributes.encode({ user_id: users.b, attributes: { gender: 'f', age: null }, source: 'crm', observed_at: Date.now(), label_set: null }) },
    ]);
    const p = await waitProfile(users.b, (x) => x.attributes.gender?.source === 'known');
    expect(p.attributes.gender).toEqual({ value: 'f', source: 'known', confidence: null, distribution: {} });
    expect(p.changed_fields).toContain('attributes.gender');
  });

  it('keeps versions monotonic across a hard restart and serves the profile warmed from ClickHouse', async () => {
    const last = Math.max(...profilesOf(users.a).map((p) => p.version));
    await publisher.stop(true);
    await start();
    const served = (await (await get(`/v1/profiles/${users.a}`)).json()) as ProfileUpdated;
    expect(served.version).toBe(last);
    await sendFeatures(features(users.a, { purchases_30d: 9, views_30d: 3000 }));
    const p = await waitProfile(users.a, (x) => x.features.purchases_30d === 9, 60000);
    expect(p.version).toBe(last + 1);
  });

  it('writes messages that Apache Avro (Python) decodes with the .avsc alone', () => {
    const sample = profiles.messages.filter((m) => m.value).slice(-3);
    expect(sample.length).toBeGreaterThan(0);
    for (const m of sample) {
      const out = execFileSync('/usr/bin/python3', ['test/interop/decode_single_object.py', 'schemas/ProfileUpdated.avsc'], { input: m.value!, encoding: 'utf8' });
      const decoded = JSON.parse(out) as { value: ProfileUpdated };
      const ours = Codecs.ProfileUpdated.decode(m.value!);
      expect(decoded.value.user_id).toBe(ours.user_id);
      expect(decoded.value.version).toBe(ours.version);
      expect(decoded.value.segments).toEqual(ours.segments);
      expect(decoded.value.features.views_30d).toBe(ours.features.views_30d);
      expect(decoded.value.risk.score).toBeCloseTo(ours.risk.score, 10);
    }
  });
});
