import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalParser, canonicalTs } from './canonical';
import { readDataset, listDatasetFiles, resolveSource, defaultDatasetsDir } from './dataset-reader';
import { jdataActionParser, jdataTime } from './jdata';
import { taobaoParser } from './taobao';
import type { ImportedEvent, ImportIssue } from './types';

async function collect(it: AsyncIterable<ImportedEvent>): Promise<ImportedEvent[]> {
  const out: ImportedEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('jdata importer', () => {
  it('maps an action row: ids, type, category, brand, China time', () => {
    const p = jdataActionParser('JData_Action_201602.csv');
    expect(p.parse('user_id,sku_id,time,model_id,type,cate,brand', 1)).toEqual({ kind: 'skip' });
    const r = p.parse('266079.0,138778,2016-01-31 23:59:03,0,6,8,403', 2);
    expect(r).toEqual({
      kind: 'event',
      ts: Date.UTC(2016, 0, 31, 15, 59, 3),
      event: {
        event_id: 'jdata:JData_Action_201602.csv:2',
        user_id: '266079',
        event_type: 'click',
        ts: Date.UTC(2016, 0, 31, 15, 59, 3),
        item_id: '138778',
        category: '8',
        brand: '403',
        properties: { model_id: '0' },
      },
    });
    const types = ['1', '2', '3', '4', '5', '6'].map((t, i) => {
      const x = p.parse(`1.0,2,2016-02-01 10:00:00,,${t},4,5`, 3 + i);
      return x.kind === 'event' ? x.event.event_type : x.kind;
    });
    expect(types).toEqual(['view', 'cart_add', 'cart_remove', 'purchase', 'favorite', 'click']);
  });

  it('rejects malformed rows with a reason', () => {
    const p = jdataActionParser('a.csv');
    p.parse('user_id,sku_id,time,model_id,type,cate,brand', 1);
    expect(p.parse('1.0,2,2016-02-01 10:00:00,,9,4,5', 2)).toMatchObject({ kind: 'error', reason: expect.stringContaining('type') });
    expect(p.parse('1.0,2,yesterday,,1,4,5', 3)).toMatchObject({ kind: 'error', reason: expect.stringContaining('time') });
    expect(p.parse('1.0,2', 4)).toMatchObject({ kind: 'error', reason: expect.stringContaining('columns') });
    expect(p.parse(',2,2016-02-01 10:00:00,,1,4,5', 5)).toMatchObject({ kind: 'error', reason: 'user_id: empty' });
  });

  it('reads China time as UTC+8', () => {
    expect(jdataTime('2016-02-01 00:00:00')).toBe(Date.parse('2016-01-31T16:00:00Z'));
    expect(jdataTime('2016-13-01 00:00:00')).toBeNull();
  });
});

describe('taobao importer', () => {
  it('maps pv/cart/fav/buy and unix seconds', () => {
    const p = taobaoParser('UserBehavior.csv');
    const r = p.parse('1,2268318,2520377,pv,1511544070', 1);
    expect(r).toEqual({
      kind: 'event',
      ts: 1511544070000,
      event: { event_id: 'taobao:UserBehavior.csv:1', user_id: '1', event_type: 'view', ts: 1511544070000, item_id: '2268318', category: '2520377' },
    });
    const types = ['cart', 'fav', 'buy'].map((b, i) => {
      const x = p.parse(`1,2,3,${b},1511544070`, 2 + i);
      return x.kind === 'event' ? x.event.event_type : x.kind;
    });
    expect(types).toEqual(['cart_add', 'favorite', 'purchase']);
    expect(p.parse('1,2,3,like,1511544070', 9)).toMatchObject({ kind: 'error' });
    expect(p.parse('1,2,3,pv,abc', 10)).toMatchObject({ kind: 'error' });
  });
});

describe('canonical importer', () => {
  it('passes events through, derives a missing event_id, needs a readable ts', () => {
    const p = canonicalParser('events.ndjson');
    expect(p.parse('{"event_id":"e1","user_id":"u","event_type":"view","ts":"2024-01-01T00:00:00+08:00"}', 1)).toMatchObject({
      kind: 'event',
      ts: Date.UTC(2023, 11, 31, 16),
    });
    expect(p.parse('{"user_id":"u","event_type":"view","ts":5}', 2)).toMatchObject({ event: { event_id: 'canonical:events.ndjson:2' } });
    expect(p.parse('{nope', 3)).toMatchObject({ kind: 'error' });
    expect(p.parse('{"event_id":"x","ts":"2024-01-01 10:00"}', 4)).toMatchObject({ kind: 'error', reason: expect.stringContaining('ts') });
    expect(p.parse('', 5)).toEqual({ kind: 'skip' });
    expect(canonicalTs(1700000000000)).toBe(1700000000000);
  });
});

describe('readDataset', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'datasets-spec-'));
    const header = 'user_id,sku_id,time,model_id,type,cate,brand';
    fs.writeFileSync(
      path.join(dir, 'JData_Action_201603.csv'),
      [header, '2.0,20,2016-03-01 00:00:05,,1,4,5', 'garbage', '2.0,21,2016-03-01 00:00:07,,2,4,5'].join('\n') + '\n',
    );
    // Out of order inside the file, and overlapping the other file in time.
    fs.writeFileSync(
      path.join(dir, 'JData_Action_201602.csv'),
      [header, '1.0,10,2016-03-01 00:00:06,,1,4,5', '1.0,11,2016-03-01 00:00:01,,6,4,5'].join('\r\n') + '\r\n',
    );
    fs.writeFileSync(path.join(dir, 'JData_User.csv'), 'user_id,age,sex,user_lv_cd,user_reg_tm\n1,-1,2,3,2016-01-01\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('merges the files of a folder in event-time order and reports bad lines with file:line', async () => {
    const issues: ImportIssue[] = [];
    const notes: string[] = [];
    const events = await collect(readDataset(dir, 'jdata', { onIssue: (i) => issues.push(i), onNote: (n) => notes.push(n) }));
    expect(events.map((e) => e.event.event_id)).toEqual([
      'jdata:JData_Action_201602.csv:3',
      'jdata:JData_Action_201603.csv:2',
      'jdata:JData_Action_201602.csv:2',
      'jdata:JData_Action_201603.csv:4',
    ]);
    expect(issues).toEqual([{ file: 'JData_Action_201603.csv', line: 3, reason: expect.stringContaining('columns') }]);
    expect(notes).toEqual([expect.stringContaining('JData_Action_201602.csv is not in event-time order')]);
  });

  it('lists only action files and resolves sources', async () => {
    expect((await listDatasetFiles(dir, 'jdata')).map((f) => path.basename(f))).toEqual(['JData_Action_201602.csv', 'JData_Action_201603.csv']);
    await expect(listDatasetFiles(dir, 'canonical')).rejects.toThrow(/no canonical files/);
    expect(resolveSource('JData_User.csv', dir)).toBe(path.join(dir, 'JData_User.csv'));
    expect(() => resolveSource('nope', dir)).toThrow(/source not found/);
    expect(defaultDatasetsDir('/x', { DATASETS_DIR: '/data' })).toBe('/data');
  });

  it('is idempotent: the same ids on a second read', async () => {
    const a = (await collect(readDataset(dir, 'jdata'))).map((e) => e.event.event_id);
    const b = (await collect(readDataset(dir, 'jdata'))).map((e) => e.event.event_id);
    expect(b).toEqual(a);
  });
});
