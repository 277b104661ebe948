import { DedupWindow, hash64, hashBytes, HashSet64, hashString, lastHash } from './dedup-window';

describe(DedupWindow.name, () => {
  it('remembers ids it was given and nothing else', () => {
    const sut = new DedupWindow({ horizonMs: 60_000, maxIds: 1000 }, 0);
    for (let i = 0; i < 500; i++) sut.add(`id-${i}`, 0);
    for (let i = 0; i < 500; i++) expect(sut.has(`id-${i}`)).toBe(true);
    for (let i = 500; i < 1500; i++) expect(sut.has(`id-${i}`)).toBe(false);
    expect(sut.size).toBe(500);
  });

  it('remembers an id for at least the horizon, and forgets it eventually', () => {
    const sut = new DedupWindow({ horizonMs: 7000, maxIds: 1000, generations: 8 }, 0);
    sut.add('old', 0);
    for (let t = 0; t <= 7000; t += 500) sut.add(`tick-${t}`, t);
    expect(sut.has('old')).toBe(true);
    for (let t = 7000; t <= 9000; t += 500) sut.add(`tick2-${t}`, t);
    expect(sut.has('old')).toBe(false);
  });

  it('keeps at least maxIds most recent ids when ids arrive faster than the horizon', () => {
    const sut = new DedupWindow({ horizonMs: 3_600_000, maxIds: 7000, generations: 8 }, 0);
    for (let i = 0; i < 20_000; i++) sut.add(`id-${i}`, 1);
    for (let i = 20_000 - 7000; i < 20_000; i++) expect(sut.has(`id-${i}`)).toBe(true);
    expect(sut.has('id-0')).toBe(false);
    expect(sut.size).toBeLessThanOrEqual(8000);
  });

  it('has fixed memory of about 13 bytes per id', () => {
    const sut = new DedupWindow({ horizonMs: 1000, maxIds: 1_000_000 });
    expect(sut.bytesPerId).toBeGreaterThan(12);
    expect(sut.bytesPerId).toBeLessThan(14);
  });

  it('is a no-op when disabled', () => {
    const sut = new DedupWindow({ horizonMs: 1000, maxIds: 0 });
    sut.add('a');
    expect(sut.has('a')).toBe(false);
    expect(sut.bytes).toBe(0);
  });

  it('hashes distinct ids to distinct 64-bit values (no collision among 200k similar ids)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      const [a, b] = hash64(`jdata:JData_Action_201602.csv:${i}`);
      seen.add(`${a}:${b}`);
    }
    expect(seen.size).toBe(200_000);
  });

  it('hashes ASCII bytes exactly as it hashes the string they spell', () => {
    for (const s of ['', 'a', 'g2-374-0', 'jdata:JData_Action_201602.csv:123456', '~ !"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}']) {
      const buf = Buffer.from(`xx${s}yy`, 'latin1');
      const h1 = hashBytes(buf, 2, 2 + s.length);
      const h2 = lastHash.h2;
      expect([h1, h2]).toEqual(hash64(s));
      expect(hashString(s)).toBe(h1);
    }
  });

  it('finds ids added by hash with has(), and strings added with add() by hash', () => {
    const sut = new DedupWindow({ horizonMs: 60_000, maxIds: 1000 }, 0);
    const h1 = hashString('by-hash');
    sut.addHash(h1, lastHash.h2, 0);
    expect(sut.has('by-hash')).toBe(true);
    sut.add('by-string', 0);
    const [a, b] = hash64('by-string');
    expect(sut.hasHash(a, b)).toBe(true);
    expect(sut.hasHash(a, b ^ 1)).toBe(false);
  });
});

describe(HashSet64.name, () => {
  it('grows past its expected size and keeps every member', () => {
    const sut = new HashSet64(16);
    for (let i = 0; i < 5000; i++) {
      const [a, b] = hash64(`id-${i}`);
      expect(sut.add(a, b)).toBe(true);
    }
    expect(sut.size).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(sut.has(...hash64(`id-${i}`))).toBe(true);
    expect(sut.has(...hash64('id-5000'))).toBe(false);
    expect(sut.add(...hash64('id-7'))).toBe(false);
  });
});
