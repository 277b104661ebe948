import { parseEventsBody } from './body-parser';

const parse = (s: string | Buffer, max = 100) => parseEventsBody(Buffer.isBuffer(s) ? s : Buffer.from(s), max);

describe(parseEventsBody.name, () => {
  it('parses a JSON array, a single object and NDJSON', () => {
    const arr = parse('[{"a":1},{"a":2}]');
    expect(arr.ok && arr.items).toEqual([{ a: 1 }, { a: 2 }]);
    expect(arr.ok && arr.rawOf(1).toString()).toBe('{"a":2}');
    const one = parse('{\n  "a": 1\n}');
    expect(one.ok && one.items).toEqual([{ a: 1 }]);
    const nd = parse('{"a":1}\r\n\n{"a":2}\n');
    expect(nd.ok && nd.items).toEqual([{ a: 1 }, { a: 2 }]);
    expect(nd.ok && nd.rawOf(1).toString()).toBe('{"a":2}');
  });

  it('says where JSON is broken', () => {
    const nd = parse('{"a":1}\n{"a":\n');
    expect(nd).toMatchObject({ ok: false, status: 400, error: 'invalid_json' });
    expect(!nd.ok && nd.message).toMatch(/^line 2 is not valid JSON/);
    const arr = parse('[{"a":1},\n {"a" 2}]');
    expect(!arr.ok && arr.message).toMatch(/^body is not valid JSON: line 2 column/);
  });

  it('rejects invalid UTF-8 with the byte offset', () => {
    const r = parse(Buffer.concat([Buffer.from('[{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]')]));
    expect(r).toMatchObject({ ok: false, status: 400, error: 'invalid_utf8' });
    expect(!r.ok && r.message).toContain('offset 7');
  });

  it('rejects empty bodies and too many events', () => {
    expect(parse('')).toMatchObject({ ok: false, status: 400, error: 'empty_body' });
    expect(parse('\n\n')).toMatchObject({ ok: false, status: 400, error: 'empty_body' });
    expect(parse('[1,2,3]', 2)).toMatchObject({ ok: false, status: 413, error: 'too_many_events' });
    expect(parse('{}\n{}\n{}', 2)).toMatchObject({ ok: false, status: 413, error: 'too_many_events' });
  });

  it('keeps __proto__ keys as own data, without touching any prototype', () => {
    const r = parse('[{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}]');
    expect(r.ok).toBe(true);
    const item = r.ok ? (r.items[0] as Record<string, unknown>) : {};
    expect(Object.prototype.hasOwnProperty.call(item, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('survives deep nesting (a clear error or a parsed value, never a crash)', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const r = parse(deep);
    expect(r.ok || r.status === 400).toBe(true);
  });
});
