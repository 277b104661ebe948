import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ClickEvent, Codecs, Topics, UserAttributes } from '@app/contracts';
import { defaultDatasetsDir, generateEvents, generateLabels, generatePersonas, replay, ReplaySummary } from '@app/datasets';
import { ReadMessage, TestNamespace, testNamespace, TopicReader, waitFor } from '@app/testing';

/**
 * `replay()` against the real Kafka: the raw topic holds exactly the expected ClickEvents (count,
 * keys, ids, UTC+8 conversion, event-time order per partition), labels land on
 * user.attributes.v1, and a second run publishes the very same event ids (the ingestor's dedup
 * makes that a no-op downstream).
 */

async function topicSize(ns: TestNamespace, base: string): Promise<number> {
  const kafka = new Kafka({ clientId: 'replay-test', brokers: ns.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Right after topic creation a broker may answer "not the leader" for a moment: retry that.
    const offsets = await waitFor(() => admin.fetchTopicOffsets(`${ns.topicPrefix}${base}`), { timeoutMs: 15_000, what: `offsets of ${base}` });
    return offsets.reduce((s, o) => s + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

async function deleteNamespaceTopics(ns: TestNamespace): Promise<void> {
  const kafka = new Kafka({ clientId: 'replay-test', brokers: ns.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(ns.topicPrefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

async function readAll<T>(ns: TestNamespace, base: string, count: number, decode: (b: Buffer) => T): Promise<{ m: ReadMessage; v: T }[]> {
  const reader = await new TopicReader(ns.brokers, `${ns.topicPrefix}${base}`).start();
  try {
    const msgs = await reader.waitFor(() => true, count, 60_000);
    return msgs.map((m) => ({ m, v: decode(m.value as Buffer) }));
  } finally {
    await reader.stop();
  }
}

function expectEventTimeOrderPerPartition(events: { m: ReadMessage; v: ClickEvent }[]): void {
  const byPartition = new Map<number, { offset: number; ts: number }[]>();
  for (const { m, v } of events) {
    const list = byPartition.get(m.partition) ?? [];
    list.push({ offset: Number(m.offset), ts: v.ts });
    byPartition.set(m.partition, list);
  }
  let outOfOrder = 0;
  for (const list of byPartition.values()) {
    list.sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < list.length; i++) if (list[i].ts < list[i - 1].ts) outOfOrder++;
  }
  expect(outOfOrder).toBe(0);
}

describe('replay (real Kafka)', () => {
  const namespaces: TestNamespace[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'replay-int-'));
  afterAll(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const ns of namespaces) await deleteNamespaceTopics(ns);
  });
  const ns = (label: string) => {
    const n = testNamespace(label);
    namespaces.push(n);
    return n;
  };

  it('publishes the generated dataset and its labels exactly, and the same ids again on a second run', async () => {
    const n = ns('replaygen');
    const gen = { seed: 11, users: 40, days: 1, labelFraction: 0.5 };
    const expected = [...generateEvents({ seed: 11, users: 40, days: 1 })];
    const expectedLabels = generateLabels(generatePersonas({ seed: 11, users: 40 }), { fraction: 0.5, seed: 11 });
    expect(expected.length).toBeGreaterThan(100);

    const first: ReplaySummary = await replay({ format: 'generator', generator: gen, env: n.env });
    expect(first).toMatchObject({ events: expected.length, errors: 0, labels: expectedLabels.length, to: 'kafka', aborted: false });
    expect(await topicSize(n, Topics.ClickstreamRaw)).toBe(expected.length);

    const raw = await readAll(n, Topics.ClickstreamRaw, expected.length, (b) => Codecs.ClickEvent.decode(b));
    expect(raw.map((r) => r.v.event_id).sort()).toEqual(expected.map((e) => e.event_id).sort());
    for (const { m, v } of raw) expect(m.key?.toString()).toBe(v.user_id);
    const byId = new Map(raw.map((r) => [r.v.event_id, r.v]));
    const sample = expected.find((e) => e.event_type === 'purchase') ?? expected[0];
    expect(byId.get(sample.event_id)).toMatchObject({
      user_id: sample.user_id,
      event_type: sample.event_type,
      ts: sample.ts,
      item_id: sample.item_id ?? null,
      price: sample.price ?? null,
      quantity: sample.quantity ?? null,
      session_id: sample.session_id,
      source: 'replay:generator',
      backfill: false,
    });
    expectEventTimeOrderPerPartition(raw);

    expect(await topicSize(n, Topics.UserAttributes)).toBe(expectedLabels.length);
    const attrs = await readAll(n, Topics.UserAttributes, expectedLabels.length, (b) => Codecs.UserAttributes.decode(b));
    const got = attrs.map(({ m, v }) => ({ key: m.key?.toString(), user_id: v.user_id, attributes: v.attributes }));
    expect(got.sort((a, b) => a.user_id.localeCompare(b.user_id))).toEqual(
      expectedLabels.map((l) => ({ key: l.user_id, user_id: l.user_id, attributes: l.attributes })).sort((a, b) => a.user_id.localeCompare(b.user_id)),
    );

    // Second run: the same ids again (and only those), so the ingestor's dedup drops them all.
    const second = await replay({ format: 'generator', generator: gen, env: n.env });
    expect(second.events).toBe(expected.length);
    expect(await topicSize(n, Topics.ClickstreamRaw)).toBe(2 * expected.length);
    const both = await readAll(n, Topics.ClickstreamRaw, 2 * expected.length, (b) => Codecs.ClickEvent.decode(b));
    const counts = new Map<string, number>();
    for (const { v } of both) counts.set(v.event_id, (counts.get(v.event_id) ?? 0) + 1);
    expect(counts.size).toBe(expected.length);
    expect([...counts.values()].every((c) => c === 2)).toBe(true);
  });

  it('imports a JData folder: UTC+8 times, float ids, type mapping, cross-file order, bad rows counted, JData_User labels', async () => {
    const n = ns('replayjd');
    const dir = path.join(tmp, 'jdata');
    fs.mkdirSync(dir);
    const header = 'user_id,sku_id,time,model_id,type,cate,brand';
    fs.writeFileSync(
      path.join(dir, 'JData_Action_201602.csv'),
      [header, '266079.0,138778,2016-01-31 23:59:02,,1,8,403', '266079.0,138778,2016-01-31 23:59:03,0,6,8,403', '200002.0,1000,2016-02-01 00:00:10,,4,4,5'].join('\n') + '\n',
    );
    fs.writeFileSync(
      path.join(dir, 'JData_Action_201603.csv'),
      [header, '200002.0,1000,2016-02-01 00:00:05,,2,4,5', '200002.0,1000,not-a-time,,2,4,5', '266079.0,77,2016-02-01 00:00:20,,5,9,6'].join('\n') + '\n',
    );
    fs.writeFileSync(path.join(dir, 'JData_User.csv'), 'user_id,age,sex,user_lv_cd,user_reg_tm\n266079,26-35岁,2,4,2015-01-01\n200002,-1,1,2,2015-03-01\n');

    const run = () => replay({ format: 'jdata', source: dir, labels: path.join(dir, 'JData_User.csv'), env: n.env });
    const summary = await run();
    expect(summary).toMatchObject({ events: 5, errors: 1, labels: 2 });
    expect(summary.errorSamples).toEqual([expect.stringMatching(/^JData_Action_201603\.csv:3: time/)]);
    expect(await topicSize(n, Topics.ClickstreamRaw)).toBe(5);

    const raw = await readAll(n, Topics.ClickstreamRaw, 5, (b) => Codecs.ClickEvent.decode(b));
    const byId = new Map(raw.map((r) => [r.v.event_id, r]));
    expect([...byId.keys()].sort()).toEqual(
      ['JData_Action_201602.csv:2', 'JData_Action_201602.csv:3', 'JData_Action_201602.csv:4', 'JData_Action_201603.csv:2', 'JData_Action_201603.csv:4'].map((s) => `jdata:${s}`),
    );
    const click = byId.get('jdata:JData_Action_201602.csv:3');
    expect(click?.m.key?.toString()).toBe('266079');
    expect(click?.v).toMatchObject({
      user_id: '266079',
      event_type: 'click',
      ts: Date.parse('2016-01-31T15:59:03Z'),
      item_id: '138778',
      category: '8',
      brand: '403',
      properties: { model_id: '0' },
      source: 'replay:jdata',
      backfill: true,
    });
    expect(byId.get('jdata:JData_Action_201603.csv:2')?.v).toMatchObject({ event_type: 'cart_add', ts: Date.parse('2016-01-31T16:00:05Z') });
    expect(byId.get('jdata:JData_Action_201602.csv:4')?.v.event_type).toBe('purchase');
    expect(byId.get('jdata:JData_Action_201603.csv:4')?.v.event_type).toBe('favorite');
    // User 200002's cart_add (file 03) comes before the purchase (file 02) on their partition.
    expectEventTimeOrderPerPartition(raw);

    const attrs = await readAll(n, Topics.UserAttributes, 2, (b): UserAttributes => Codecs.UserAttributes.decode(b));
    const labels = new Map(attrs.map(({ v }) => [v.user_id, v]));
    expect(labels.get('266079')).toMatchObject({ attributes: { age: '26-35岁', sex: null, user_lv_cd: '4' }, source: 'labels:JData_User.csv', label_set: 'jdata' });
    expect(labels.get('200002')?.attributes).toEqual({ age: null, sex: '1', user_lv_cd: '2' });

    // Re-import: the same five ids again.
    await run();
    const twice = await readAll(n, Topics.ClickstreamRaw, 10, (b) => Codecs.ClickEvent.decode(b));
    expect(new Set(twice.map((r) => r.v.event_id))).toEqual(new Set(byId.keys()));
  });

  const sample = (() => {
    const dir = defaultDatasetsDir();
    const p = dir ? path.join(dir, 'jdata-2017-sample') : null;
    return p && fs.existsSync(p) ? p : null;
  })();
  if (!sample) {
    console.warn('replay.int-spec: the real JData sample is absent (set DATASETS_DIR): skipping the sample test');
  }
  (sample ? it : it.skip)('replays the head of the real JData sample', async () => {
    const n = ns('replayreal');
    const summary = await replay({ format: 'jdata', source: sample as string, max: 3000, env: n.env });
    expect(summary).toMatchObject({ events: 3000, errors: 0 });
    expect(summary.firstEventTs).toBe(Date.parse('2016-01-31T15:59:02Z'));
    expect(await topicSize(n, Topics.ClickstreamRaw)).toBe(3000);
  });
});
