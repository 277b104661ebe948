import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ReloadOutcome, SegmentRuleSet } from './segment-rule-set';

const rule = (name: string) => ({ name, rule: { field: 'features.purchases_30d', op: '>=', value: 1 } });

describe(SegmentRuleSet.name, () => {
  let dir: string;
  let sut: SegmentRuleSet;
  const outcomes: ReloadOutcome[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'segments-'));
    outcomes.length = 0;
  });
  afterEach(() => {
    sut?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a changed file on reload and keeps the previous rules when the new ones are malformed', () => {
    const file = join(dir, 'segments.json');
    writeFileSync(file, JSON.stringify({ segments: [rule('a')] }));
    sut = new SegmentRuleSet(file, pino({ level: 'silent' }), 60000, (o) => outcomes.push(o));
    sut.start();
    expect(sut.names).toEqual(['a']);

    writeFileSync(file, JSON.stringify({ segments: [rule('a'), rule('b')] }));
    expect(sut.reload()).toEqual({ ok: true, segments: ['a', 'b'], changed: true });

    writeFileSync(file, JSON.stringify({ segments: [rule('a'), { name: 'c', rule: { field: 'features.x', op: 'like', value: 1 } }] }));
    expect(sut.reload()).toMatchObject({ ok: false, rule: 'c', reason: expect.stringMatching(/op must be one of/) });
    expect(sut.names).toEqual(['a', 'b']);
    expect(sut.lastError).toMatchObject({ rule: 'c' });
  });

  it('starts with no segments (and says why) when the file is missing', () => {
    sut = new SegmentRuleSet(join(dir, 'absent.json'), pino({ level: 'silent' }), 60000);
    sut.start();
    expect(sut.names).toEqual([]);
    expect(sut.lastError?.reason).toMatch(/cannot read/);
  });

  it('picks up a change without an explicit reload (watch or poll)', async () => {
    const file = join(dir, 'segments.json');
    writeFileSync(file, JSON.stringify({ segments: [rule('a')] }));
    sut = new SegmentRuleSet(file, pino({ level: 'silent' }), 100, (o) => outcomes.push(o));
    sut.start();
    writeFileSync(file, JSON.stringify({ segments: [rule('z')] }));
    const deadline = Date.now() + 5000;
    while (sut.names[0] !== 'z' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sut.names).toEqual(['z']);
  });
});
