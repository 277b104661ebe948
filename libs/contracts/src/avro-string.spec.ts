import { Type } from 'avsc';
import { AvroCodec, parseSchema } from './avro-codec';
import { fastStringTypeHook } from './avro-string';
import { codecFor } from './codecs';
import { exampleClickEvent } from './fixtures';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCHEMA = {
  type: 'record',
  name: 'Strings',
  fields: [
    { name: 's', type: 'string' },
    { name: 'o', type: ['null', 'string'] },
    { name: 'm', type: { type: 'map', values: 'string' } },
    { name: 'a', type: { type: 'array', items: { type: 'string' } } },
  ],
};

describe(fastStringTypeHook.name, () => {
  const ours = parseSchema(SCHEMA);
  const plain = Type.forSchema(SCHEMA as Parameters<typeof Type.forSchema>[0], { wrapUnions: 'never' });

  it('writes exactly the bytes avsc writes, for ASCII, non-ASCII and length-boundary strings', () => {
    const random = prng(7);
    const alphabet = ['a', 'Z', '0', ' ', '\u007f', 'é', 'ß', '中', '😀', '\u0000', '\ud800'];
    const samples = ['', 'x', 'a'.repeat(63), 'a'.repeat(64), `${'a'.repeat(62)}é`, 'é'.repeat(40)];
    for (let i = 0; i < 500; i++) {
      const len = Math.floor(random() * 90);
      let s = '';
      for (let j = 0; j < len; j++) {
        s +=
          random() < 0.85
            ? 'abcdefghij'[Math.floor(random() * 10)]
            : alphabet[Math.floor(random() * alphabet.length)];
      }
      samples.push(s);
    }
    for (const s of samples) {
      const value = { s, o: s, m: { [s]: s }, a: [s, s] };
      expect(ours.toBuffer(value).equals(plain.toBuffer(value))).toBe(true);
      expect(ours.fromBuffer(ours.toBuffer(value))).toEqual(plain.fromBuffer(plain.toBuffer(value)));
    }
  });

  it('hands strings that straddle the end of the buffer to avsc (which reports the size needed)', () => {
    const buf = Buffer.alloc(8);
    expect(ours.encode({ s: 'abcdef', o: null, m: {}, a: [] }, buf, 0)).toBe(
      plain.encode({ s: 'abcdef', o: null, m: {}, a: [] }, Buffer.alloc(8), 0),
    );
    expect(ours.encode({ s: 'abcdefgh', o: null, m: {}, a: [] }, buf, 0)).toBeLessThan(0);
  });

  it('round-trips ClickEvents whose encoding ends anywhere around the 16 KiB scratch buffer', () => {
    const codec = codecFor('ClickEvent') as unknown as AvroCodec<unknown, unknown>;
    const base = codec.encode(exampleClickEvent({ properties: {} })).length;
    for (let size = 16_300; size < 16_420; size++) {
      // properties {k: v}: count (2 bytes) + key (2) + value (length varint 2-3 bytes) + end (1).
      const filler = 'v'.repeat(Math.max(0, size - base - 8));
      const event = exampleClickEvent({ properties: { k: filler } });
      expect(codec.decode(codec.encode(event))).toEqual(event);
    }
  });

  it('leaves non-string schemas alone', () => {
    expect(fastStringTypeHook('long')).toBeUndefined();
    expect(fastStringTypeHook({ type: 'string', logicalType: 'uuid' })).toBeUndefined();
    expect(fastStringTypeHook({ type: 'string' })).toBeDefined();
  });
});
