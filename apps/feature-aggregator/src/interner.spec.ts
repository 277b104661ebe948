import { StringInterner } from './interner';

describe(StringInterner.name, () => {
  it('returns what toString would decode, for repeated, colliding, non-ASCII and invalid bytes', () => {
    const samples = [
      'view',
      'cart_add',
      'c1>sub2',
      'brand-7',
      '',
      'é',
      'c1>手机',
      '😀',
      'x'.repeat(64),
      'y'.repeat(65),
    ].map((s) => Buffer.from(s));
    // Invalid UTF-8 (decoded to U+FFFD), of as many characters as bytes or fewer.
    samples.push(
      Buffer.from([0xff]),
      Buffer.from([0x61, 0xff, 0x62]),
      Buffer.from([0xe1, 0x80]),
      Buffer.from([0xc3]),
      Buffer.from([0x80, 0x80]),
    );
    let seed = 1;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 300; i++)
      samples.push(
        Buffer.from(
          Array.from({ length: Math.floor(rnd() * 6) }, () =>
            rnd() < 0.8 ? 97 + Math.floor(rnd() * 3) : Math.floor(rnd() * 256),
          ),
        ),
      );
    for (const bits of [1, 4, 12]) {
      const sut = new StringInterner(bits);
      for (let round = 0; round < 20; round++) {
        for (const b of samples) {
          // At an offset inside a larger buffer, as in a message.
          const buf = Buffer.concat([Buffer.from([0x41, 0xc3]), b, Buffer.from([0x42])]);
          expect(sut.get(buf, 2, 2 + b.length)).toBe(b.toString('utf8'));
        }
      }
      expect(sut.hits).toBeGreaterThan(0);
    }
  });

  it('hands out the same string for the same bytes', () => {
    const sut = new StringInterner(8);
    const a = sut.get(Buffer.from('category-1'), 0, 10);
    const b = sut.get(Buffer.from('xcategory-1'), 1, 11);
    expect(b).toBe(a);
    expect(sut.hits).toBe(1);
  });
});
