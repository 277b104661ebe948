import { AvroCodec, peekFingerprint, SINGLE_OBJECT_HEADER_LENGTH } from './avro-codec';
import { codecFor, Codecs } from './codecs';
import { ContractDecodeError, ContractEncodeError } from './contract-errors';
import { exampleClickEvent, exampleMessages, exampleModelUpdate, exampleUserAttributes } from './fixtures';
import { ClickEventInput, MESSAGE_NAMES, MessageName, ModelUpdate } from './generated/types';
import { fingerprintBytesLE } from './rabin';

/** Deterministic PRNG (mulberry32) so fuzz failures reproduce. */
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

/** Avro zig-zag varint of a (possibly large) integer. */
function varint(n: bigint): Buffer {
  let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
  const bytes: number[] = [];
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) b |= 0x80;
    bytes.push(b);
  } while (z > 0n);
  return Buffer.from(bytes);
}

function withHeader(codec: AvroCodec<unknown, unknown>, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintBytesLE(codec.fingerprint), body]);
}

function decodeFailure(codec: AvroCodec<unknown, unknown>, buf: Uint8Array): ContractDecodeError {
  try {
    codec.decode(buf);
  } catch (err) {
    if (err instanceof ContractDecodeError) return err;
    throw err;
  }
  throw new Error('decode unexpectedly succeeded');
}

function encodeFailure(codec: AvroCodec<unknown, unknown>, value: unknown): ContractEncodeError {
  try {
    codec.encode(value);
  } catch (err) {
    if (err instanceof ContractEncodeError) return err;
    throw err;
  }
  throw new Error('encode unexpectedly succeeded');
}

const anyCodec = (name: MessageName) => codecFor(name) as unknown as AvroCodec<unknown, unknown>;

describe(AvroCodec.name, () => {
  describe('round trip', () => {
    it.each(MESSAGE_NAMES.map((n) => [n]))('encodes and decodes a realistic %s unchanged', (name) => {
      const codec = anyCodec(name);
      const value = exampleMessages()[name];
      const buf = codec.encode(value);

      expect(buf.subarray(0, 2)).toEqual(Buffer.from([0xc3, 0x01]));
      expect(buf.subarray(2, SINGLE_OBJECT_HEADER_LENGTH)).toEqual(fingerprintBytesLE(codec.fingerprint));
      expect(codec.decode(buf)).toEqual(value);
      expect(JSON.parse(JSON.stringify(codec.decode(buf)))).toEqual(JSON.parse(JSON.stringify(value)));
    });

    it('fills fields left out of the input with their schema defaults', () => {
      const buf = Codecs.ClickEvent.encode({ event_id: 'e-1', event_type: 'view', ts: 1_700_000_000_000 });

      expect(Codecs.ClickEvent.decode(buf)).toEqual({
        ...exampleClickEvent(),
        event_id: 'e-1',
        event_type: 'view',
        ts: 1_700_000_000_000,
        ...Object.fromEntries(
          Object.entries(exampleClickEvent())
            .filter(([k]) => !['event_id', 'event_type', 'ts', 'properties', 'backfill'].includes(k))
            .map(([k]) => [k, null]),
        ),
        properties: {},
        backfill: false,
      });
    });

    it('takes plain null and plain values for [null, X] unions, also inside maps', () => {
      const input: ClickEventInput = {
        event_id: 'e',
        event_type: 'view',
        ts: 1,
        user_id: null,
        price: 0,
        quantity: 3,
      };
      const decoded = Codecs.ClickEvent.decode(Codecs.ClickEvent.encode(input));
      expect(decoded).toMatchObject({ user_id: null, price: 0, quantity: 3 });

      const attrs = { ...exampleUserAttributes(), attributes: { age: null, sex: 'F' } };
      expect(Codecs.UserAttributes.decode(Codecs.UserAttributes.encode(attrs)).attributes).toEqual({
        age: null,
        sex: 'F',
      });
    });

    it('decodes from a Uint8Array that is not a Buffer', () => {
      const buf = Codecs.ClickEvent.encode(exampleClickEvent());
      const copy = new Uint8Array(buf.length + 4).subarray(4);
      copy.set(buf);
      expect(Codecs.ClickEvent.decode(copy)).toEqual(exampleClickEvent());
    });

    it.each([
      ['200 KB', 200 * 1024],
      ['5 MB', 5 * 1024 * 1024],
    ])(
      'encodes messages larger than its scratch buffer (a %s model), and small ones after',
      (_size, bytes) => {
        const codec = AvroCodec.fromSchemasDir<ModelUpdate>('ModelUpdate');
        const model = { ...exampleModelUpdate(), weights: Buffer.alloc(bytes, 7) };
        const buf = codec.encode(model);
        expect(buf.length).toBeGreaterThan(bytes);
        expect(codec.decode(buf).weights.equals(model.weights)).toBe(true);
        expect(codec.decode(codec.encode(exampleModelUpdate()))).toEqual(exampleModelUpdate());
        expect(codec.decode(codec.encode(model)).weights.equals(model.weights)).toBe(true);
      },
    );

    it('keeps a "__proto__" map key as an entry instead of changing the prototype', () => {
      const attributes = JSON.parse('{"__proto__": "x", "age": "26-35"}') as Record<string, string | null>;
      const decoded = Codecs.UserAttributes.decode(
        Codecs.UserAttributes.encode({ ...exampleUserAttributes(), attributes }),
      );
      expect(Object.getPrototypeOf(decoded.attributes)).toBe(Object.prototype);
      expect(Object.keys(decoded.attributes).sort()).toEqual(['__proto__', 'age']);
    });

    it('reports the writer version: the released version the current schema equals', () => {
      const result = Codecs.ClickEvent.tryDecode(Codecs.ClickEvent.encode(exampleClickEvent()));
      expect(result).toMatchObject({
        ok: true,
        writerVersion: expect.stringMatching(/^(v\d+|current)$/) as unknown,
      });
    });
  });

  describe('encodeInto', () => {
    it.each(MESSAGE_NAMES.map((n) => [n]))('writes the bytes encode gives for a %s, at any position, or -1 when they do not fit', (name) => {
      const codec = Codecs[name] as AvroCodec<unknown, unknown>;
      const value = exampleMessages()[name];
      const want = codec.encode(value);
      const out = Buffer.alloc(want.length + 20, 0xee);
      const end = codec.encodeInto(value, out, 7);
      if (end === -1) return; // no compiled writer for this schema: callers use encode()
      expect(end).toBe(7 + want.length);
      expect(out.subarray(7, end)).toEqual(want);
      expect(out[6]).toBe(0xee); // nothing written before `at`
      expect(codec.encodeInto(value, Buffer.alloc(want.length - 1), 0)).toBe(-1);
      expect(codec.encodeInto(value, out, out.length - 5)).toBe(-1);
    });

    it('throws what encode throws for an invalid value', () => {
      const bad = { ...exampleMessages().UserFeatures, as_of: 'yesterday' };
      expect(() => Codecs.UserFeatures.encodeInto(bad as never, Buffer.alloc(4096), 0)).toThrow(ContractEncodeError);
    });

    it('has a compiled writer for UserFeatures (the aggregator encodes into one buffer)', () => {
      const value = exampleMessages().UserFeatures;
      expect(Codecs.UserFeatures.encodeInto(value, Buffer.alloc(64 * 1024), 0)).toBeGreaterThan(0);
    });
  });

  describe('encode validation', () => {
    it.each<[string, MessageName, (m: ReturnType<typeof exampleMessages>) => unknown, string, RegExp]>([
      [
        'a string for a long',
        'ClickEvent',
        (m) => ({ ...m.ClickEvent, ts: '2025-03-14' }),
        'ts',
        /ts: expected long, got string/,
      ],
      [
        'an unsafe integer',
        'ClickEvent',
        (m) => ({ ...m.ClickEvent, ts: 2 ** 60 }),
        'ts',
        /ts: expected long/,
      ],
      [
        'a missing required field',
        'ClickEvent',
        (m) => ({ ...m.ClickEvent, event_id: undefined }),
        'event_id',
        /missing/,
      ],
      [
        'a number in a [null,string] union',
        'ClickEvent',
        (m) => ({ ...m.ClickEvent, user_id: 42 }),
        'user_id',
        /user_id/,
      ],
      [
        'a fraction in a nested int',
        'UserFeatures',
        (m) => ({ ...m.UserFeatures, features: { ...m.UserFeatures.features, views_1h: 1.5 } }),
        'features.views_1h',
        /features\.views_1h: expected int, got number 1\.5/,
      ],
      [
        'a number as a map value',
        'UserAttributes',
        (m) => ({ ...m.UserAttributes, attributes: { age: 5 } }),
        'attributes.age',
        /attributes\.age/,
      ],
      [
        'a number inside an array of a record',
        'ModelUpdate',
        (m) => ({
          ...m.ModelUpdate,
          heads: [m.ModelUpdate.heads[0], { name: 'x', kind: 'softmax', classes: [1] }],
        }),
        'heads.1.classes.0',
        /heads\.1\.classes\.0/,
      ],
      [
        'a missing nested record',
        'ProfileUpdated',
        (m) => ({ ...m.ProfileUpdated, risk: undefined }),
        'risk',
        /risk/,
      ],
    ])('rejects %s naming the field path', (_what, name, mutate, field, message) => {
      const err = encodeFailure(anyCodec(name), mutate(exampleMessages()));
      expect(err.field).toBe(field);
      expect(err.message).toMatch(message);
      expect(err.messageName).toBe(name);
    });

    it('lists every bad field in validate() and accepts valid values', () => {
      const bad = { ...exampleClickEvent(), ts: 'x', price: 'cheap' };
      expect(Codecs.ClickEvent.validate(bad).map((p) => p.path)).toEqual(['ts', 'price']);
      expect(Codecs.ClickEvent.validate(exampleClickEvent())).toEqual([]);
    });

    it('rejects a value that is not an object', () => {
      expect(encodeFailure(anyCodec('ClickEvent'), null).message).toMatch(
        /invalid ClickEvent: <root>: expected ClickEvent/,
      );
    });
  });

  describe('decode failures', () => {
    const codec = anyCodec('ClickEvent');
    const good = Codecs.ClickEvent.encode(exampleClickEvent());

    it.each([
      ['an empty buffer', Buffer.alloc(0)],
      ['a buffer shorter than the header', good.subarray(0, 9)],
      ['JSON', Buffer.from(JSON.stringify(exampleClickEvent()))],
      ['a wrong second magic byte', Buffer.concat([Buffer.from([0xc3, 0x02]), good.subarray(2)])],
      ['a raw Avro body without header', good.subarray(SINGLE_OBJECT_HEADER_LENGTH)],
    ])('reports not_single_object for %s', (_what, buf) => {
      const err = decodeFailure(codec, buf);
      expect(err.reasonCode).toBe('not_single_object');
      expect(err.message).toMatch(/ClickEvent: message (does not start with|is \d+ bytes)/);
    });

    it('reports unknown_fingerprint with the fingerprint in hex', () => {
      const other = Codecs.DeadLetter;
      const buf = Buffer.concat([
        good.subarray(0, 2),
        fingerprintBytesLE(other.fingerprint),
        good.subarray(10),
      ]);
      const err = decodeFailure(codec, buf);
      expect(err.reasonCode).toBe('unknown_fingerprint');
      expect(err.fingerprint).toBe(other.fingerprintHex);
      expect(err.message).toContain(other.fingerprintHex);
      expect(peekFingerprint(buf)).toBe(other.fingerprintHex);
    });

    it('reports corrupt_avro for every truncation of a valid message', () => {
      for (let len = SINGLE_OBJECT_HEADER_LENGTH; len < good.length; len++) {
        expect(decodeFailure(codec, good.subarray(0, len)).reasonCode).toBe('corrupt_avro');
      }
    });

    it('reports corrupt_avro for trailing bytes', () => {
      const err = decodeFailure(codec, Buffer.concat([good, Buffer.from([0])]));
      expect(err.reasonCode).toBe('corrupt_avro');
      expect(err.message).toMatch(/1 trailing bytes/);
    });

    it('reports corrupt_avro for an invalid union branch index', () => {
      // user_id is the second field: after event_id, a union index 5 does not exist.
      const body = Buffer.concat([varint(1n), Buffer.from('e'), varint(5n)]);
      expect(decodeFailure(codec, withHeader(codec, body)).reasonCode).toBe('corrupt_avro');
    });

    it('rejects a huge array block count at once instead of allocating it', () => {
      const arrays = new AvroCodec<unknown>('Arrays', {
        type: 'record',
        name: 'Arrays',
        fields: [{ name: 'xs', type: { type: 'array', items: 'string' } }],
      });
      const started = Date.now();
      const err = decodeFailure(arrays, withHeader(arrays, varint(2n ** 40n)));
      expect(err.reasonCode).toBe('corrupt_avro');
      expect(err.message).toMatch(/block count/);
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('rejects a huge map block count at once', () => {
      const attrs = anyCodec('UserAttributes');
      const body = Buffer.concat([varint(1n), Buffer.from('u'), varint(2n ** 33n)]);
      expect(decodeFailure(attrs, withHeader(attrs, body)).reasonCode).toBe('corrupt_avro');
    });

    it('does not loop on a negative block size while skipping a field the reader dropped', () => {
      const reader = new AvroCodec<unknown>('Skip', {
        type: 'record',
        name: 'Skip',
        fields: [{ name: 'a', type: 'int' }],
      });
      const writer = {
        type: 'record',
        name: 'Skip',
        fields: [
          { name: 'legacy', type: { type: 'array', items: 'long' } },
          { name: 'a', type: 'int' },
        ],
      };
      reader.registerWriterSchema(writer, 'v0');
      const writerCodec = new AvroCodec<unknown>('Skip', writer);
      // Block of -1 items with a byte size of -5: a naive skipper moves backwards forever.
      const body = Buffer.concat([varint(-1n), varint(-5n), varint(0n), varint(3n)]);
      expect(decodeFailure(reader, withHeader(writerCodec, body)).reasonCode).toBe('corrupt_avro');
      expect(reader.decode(writerCodec.encode({ legacy: [1, 2], a: 3 }))).toEqual({ a: 3 });
    });

    it('turns random bodies and random byte flips into values or corrupt_avro, never a crash or hang', () => {
      const random = prng(42);
      const started = Date.now();
      for (const name of MESSAGE_NAMES) {
        const c = anyCodec(name);
        const valid = c.encode(exampleMessages()[name]);
        for (let i = 0; i < 300; i++) {
          const body = Buffer.alloc(Math.floor(random() * 300));
          for (let j = 0; j < body.length; j++) body[j] = Math.floor(random() * 256);
          const mutated = Buffer.from(valid.length > 100_000 ? valid.subarray(0, 100_000) : valid);
          for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
            const at =
              SINGLE_OBJECT_HEADER_LENGTH +
              Math.floor(random() * (mutated.length - SINGLE_OBJECT_HEADER_LENGTH));
            mutated[at] = Math.floor(random() * 256);
          }
          for (const buf of [withHeader(c, body), mutated]) {
            const result = c.tryDecode(buf);
            if (!result.ok) expect(result.reasonCode).toBe('corrupt_avro');
          }
        }
      }
      expect(Date.now() - started).toBeLessThan(20_000);
    });

    it('returns failures from tryDecode instead of throwing', () => {
      const result = Codecs.ClickEvent.tryDecode(Buffer.from('not avro'));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reasonCode).toBe('not_single_object');
        expect(result.error).toBeInstanceOf(ContractDecodeError);
      }
    });
  });

  describe('schema evolution', () => {
    // What ClickEvent might have looked like before: fewer fields, one the current schema dropped.
    const v0 = {
      type: 'record',
      name: 'ClickEvent',
      namespace: 'portrait.v1',
      fields: [
        { name: 'event_id', type: 'string' },
        { name: 'user_id', type: ['null', 'string'], default: null },
        { name: 'event_type', type: 'string' },
        { name: 'ts', type: 'long' },
        { name: 'legacy_score', type: 'double', default: 0 },
      ],
    };

    it('decodes a message of a registered older writer schema into the current shape with defaults', () => {
      const codec = AvroCodec.fromSchemasDir<ReturnType<typeof exampleClickEvent>>('ClickEvent');
      const hex = codec.registerWriterSchema(v0, 'v0');
      const old = new AvroCodec<unknown>('ClickEvent', v0).encode({
        event_id: 'old-1',
        user_id: 'u-1',
        event_type: 'view',
        ts: 1_600_000_000_000,
        legacy_score: 2.5,
      });

      expect(peekFingerprint(old)).toBe(hex);
      const result = codec.tryDecode(old);
      expect(result).toMatchObject({ ok: true, writerVersion: 'v0' });
      expect(result.ok && result.value).toEqual({
        ...Codecs.ClickEvent.decode(
          Codecs.ClickEvent.encode({ event_id: 'old-1', event_type: 'view', ts: 1_600_000_000_000 }),
        ),
        user_id: 'u-1',
      });
      expect(codec.writerSchemas().map((w) => w.version)).toContain('v0');
    });

    it('does not know the older writer until it is registered', () => {
      const codec = AvroCodec.fromSchemasDir('ClickEvent');
      const old = new AvroCodec<unknown>('ClickEvent', v0).encode({
        event_id: 'a',
        event_type: 'view',
        ts: 1,
      });
      expect(decodeFailure(codec, old).reasonCode).toBe('unknown_fingerprint');
    });

    it('refuses to register a writer schema the current one cannot read', () => {
      const codec = AvroCodec.fromSchemasDir('ClickEvent');
      const incompatible = { ...v0, fields: [{ name: 'event_id', type: 'long' }] };
      expect(() => codec.registerWriterSchema(incompatible, 'v-bad')).toThrow(
        /current ClickEvent schema cannot read writer schema v-bad/,
      );
    });

    it('refuses a schema whose record name is not the message name', () => {
      expect(() => new AvroCodec('ClickEvent', { type: 'record', name: 'Other', fields: [] })).toThrow(
        /defines Other/,
      );
    });
  });
});
