import type { Type } from 'avsc';
import { Rng } from '@app/datasets';
import { parseSchema } from './avro-codec';
import { compileWriter, INVALID_VALUE } from './avro-writer';
import { codecFor } from './codecs';
import { ContractEncodeError } from './contract-errors';
import { exampleClickEvent } from './fixtures';
import { MESSAGE_NAMES } from './generated/types';

/** The datasets library's seeded mulberry32, as a function. */
function prng(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

interface T {
  typeName: string;
  itemsType?: Type;
  valuesType?: Type;
  types?: Type[];
  fields?: Array<{ name: string; type: Type; defaultValue(): unknown }>;
}

const INTS = [0, 1, -1, 63, 64, -64, -65, 8191, 8192, 2 ** 30 - 1, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31)];
const LONGS = [
  ...INTS,
  2 ** 30,
  -(2 ** 30) - 1,
  2 ** 31,
  2 ** 34,
  2 ** 48,
  2 ** 35 + 3,
  1_790_812_920_000,
  -1_790_812_920_001,
  9007199254740990,
  -9007199254740990,
];
const DOUBLES = [0, -0, 1.5, -2.25, 1e300, -1e-300, NaN, Infinity, -Infinity, 259.98, 2 ** 53];
const STRINGS = [
  '',
  'a',
  'user-42',
  'x'.repeat(21),
  'y'.repeat(63),
  'z'.repeat(64),
  'w'.repeat(65),
  'v'.repeat(200),
  'é',
  'c1>手机',
  '😀'.repeat(8),
  'ab\ud800',
  '\udc00x',
  'é'.repeat(32),
  'é'.repeat(33),
  '中'.repeat(22),
  '中'.repeat(21),
];

/** A random valid value of `type`, edge values often. */
function randomValue(type: Type, rnd: () => number, depth = 0): unknown {
  const t = type as unknown as T;
  const pick = <V>(xs: readonly V[]): V => xs[Math.floor(rnd() * xs.length)];
  switch (t.typeName) {
    case 'null':
      return null;
    case 'boolean':
      return rnd() < 0.5;
    case 'int':
      return rnd() < 0.5 ? pick(INTS) : Math.floor((rnd() - 0.5) * 2 ** (1 + Math.floor(rnd() * 31)));
    case 'long':
      return rnd() < 0.5 ? pick(LONGS) : Math.floor((rnd() - 0.5) * 2 ** (1 + Math.floor(rnd() * 53)));
    case 'float':
    case 'double':
      return rnd() < 0.4 ? pick(DOUBLES) : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 12);
    case 'string':
      return rnd() < 0.6
        ? pick(STRINGS)
        : Array.from({ length: Math.floor(rnd() * 30) }, () =>
            String.fromCharCode(32 + Math.floor(rnd() * (rnd() < 0.9 ? 95 : 3000))),
          ).join('');
    case 'bytes':
      return Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)));
    case 'array':
      return Array.from({ length: depth > 3 ? 0 : Math.floor(rnd() * 5) }, () =>
        randomValue(t.itemsType!, rnd, depth + 1),
      );
    case 'map': {
      const m: Record<string, unknown> = {};
      const n = depth > 3 ? 0 : Math.floor(rnd() * 5);
      for (let i = 0; i < n; i++) m[pick(STRINGS) + i] = randomValue(t.valuesType!, rnd, depth + 1);
      return m;
    }
    case 'union:unwrapped':
      return randomValue(pick(t.types!), rnd, depth);
    case 'record': {
      const r: Record<string, unknown> = {};
      for (const f of t.fields!) {
        // Fields with a default may be left out (undefined): both writers then write the default.
        if (f.defaultValue() !== undefined && rnd() < 0.2) continue;
        r[f.name] = randomValue(f.type, rnd, depth + 1);
      }
      return r;
    }
    default:
      throw new Error(`no generator for ${t.typeName}`);
  }
}

const WRONG: unknown[] = [
  undefined,
  null,
  'x',
  1.5,
  2 ** 31,
  2 ** 60,
  -1,
  true,
  {},
  [],
  Buffer.from('b'),
  NaN,
];

/** `value` with one randomly chosen place replaced by a random (often wrong) value. */
function mutate(value: unknown, rnd: () => number): unknown {
  const pick = WRONG[Math.floor(rnd() * WRONG.length)];
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value) || rnd() < 0.15) return pick;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value)
    ? [...value]
    : { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return pick;
  const k = keys[Math.floor(rnd() * keys.length)];
  (copy as Record<string, unknown>)[k] = mutate((copy as Record<string, unknown>)[k], rnd);
  return copy;
}

/** avsc's bytes for a valid value, null for an invalid one. */
function avscBytes(type: Type, value: unknown): Buffer | null {
  return type.isValid(value) ? type.toBuffer(value) : null;
}

function compiledBytes(
  write: NonNullable<ReturnType<typeof compileWriter>>,
  value: unknown,
  size = 1 << 16,
): Buffer | null {
  const buf = Buffer.alloc(size);
  try {
    const end = write(value, buf, 3);
    return end < 0 ? Buffer.from('too small') : buf.subarray(3, end);
  } catch (err) {
    if (err === INVALID_VALUE) return null;
    throw err;
  }
}

describe('compileWriter', () => {
  describe.each(MESSAGE_NAMES)('%s', (name) => {
    const type = codecFor(name).type;
    const write = compileWriter(type)!;

    it('compiles', () => expect(write).not.toBeNull());

    it('writes the bytes avsc writes for random valid values', () => {
      const rnd = prng(7);
      for (let i = 0; i < 1500; i++) {
        const value = randomValue(type, rnd);
        const expected = avscBytes(type, value);
        expect(expected).not.toBeNull(); // the generator's values are valid
        expect(compiledBytes(write, value)?.toString('hex')).toBe(expected!.toString('hex'));
      }
    });

    it('rejects exactly the values avsc rejects', () => {
      const rnd = prng(11);
      let invalid = 0;
      for (let i = 0; i < 3000; i++) {
        const value = mutate(randomValue(type, rnd), rnd);
        const expected = avscBytes(type, value);
        if (expected === null) invalid++;
        expect(compiledBytes(write, value)?.toString('hex') ?? null).toBe(expected?.toString('hex') ?? null);
      }
      expect(invalid).toBeGreaterThan(300);
    });

    it('asks for a bigger buffer instead of writing past the end', () => {
      const rnd = prng(13);
      for (let i = 0; i < 200; i++) {
        const value = randomValue(type, rnd);
        const expected = avscBytes(type, value)!;
        for (const size of [3, 4, 3 + Math.floor(expected.length / 2), 3 + expected.length - 1]) {
          if (size >= 3 + expected.length) continue;
          const buf = Buffer.alloc(size + 16, 0xaa);
          expect(write(value, buf.subarray(0, size), 3)).toBe(-1);
          expect(buf.subarray(size).every((b) => b === 0xaa)).toBe(true);
        }
        // Room is checked per value for its largest size (a long's 10 bytes): a little slack is enough.
        expect(compiledBytes(write, value, 3 + expected.length + 11)?.toString('hex')).toBe(
          expected.toString('hex'),
        );
      }
    });
  });

  it('covers every kind of union branch, maps of records and recursion', () => {
    const type = parseSchema({
      type: 'record',
      name: 'Node',
      fields: [
        {
          name: 'u',
          type: [
            'null',
            'int',
            'string',
            'boolean',
            'bytes',
            { type: 'array', items: 'long' },
            { type: 'map', values: 'float' },
          ],
        },
        {
          name: 'm',
          type: {
            type: 'map',
            values: {
              type: 'record',
              name: 'Leaf',
              fields: [
                { name: 'f', type: 'float' },
                { name: 'd', type: 'double', default: 1.5 },
              ],
            },
          },
        },
        { name: 'next', type: ['null', 'Node'], default: null },
      ],
    });
    const write = compileWriter(type)!;
    expect(write).not.toBeNull();
    const rnd = prng(5);
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(type, rnd);
      expect(compiledBytes(write, value)?.toString('hex')).toBe(avscBytes(type, value)!.toString('hex'));
      const bad = mutate(value, rnd);
      expect(compiledBytes(write, bad)?.toString('hex') ?? null).toBe(
        avscBytes(type, bad)?.toString('hex') ?? null,
      );
    }
  });

  it('leaves types it does not know to avsc', () => {
    expect(compileWriter(parseSchema({ type: 'enum', name: 'E', symbols: ['A'] }))).toBeNull();
    expect(
      compileWriter(
        parseSchema({
          type: 'record',
          name: 'R',
          fields: [{ name: 'x', type: { type: 'fixed', name: 'F', size: 2 } }],
        }),
      ),
    ).toBeNull();
  });
});

describe('AvroCodec.encode with the compiled writer', () => {
  const codec = codecFor('ClickEvent');

  it('round-trips and still names the bad fields of an invalid value', () => {
    const e = exampleClickEvent({ category: 'c1>手机', properties: { a: 'b' } });
    expect(codec.decode(codec.encode(e))).toEqual(e);
    expect(() => codec.encode({ ...e, ts: 1.5, event_type: 7 } as never)).toThrow(ContractEncodeError);
    try {
      codec.encode({ ...e, ts: 1.5 });
    } catch (err) {
      expect((err as ContractEncodeError).message).toContain('ts');
    }
  });

  it('grows past the scratch buffer, and writes messages over 1 MiB into their own buffers', () => {
    for (const size of [20_000, 300_000, 3_000_000]) {
      const e = exampleClickEvent({ user_agent: 'a'.repeat(size) });
      expect(codec.decode(codec.encode(e)).user_agent).toHaveLength(size);
    }
    expect(codec.decode(codec.encode(exampleClickEvent())).user_agent).toBe(exampleClickEvent().user_agent);
  });
});
