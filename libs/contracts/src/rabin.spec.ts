import { Type } from 'avsc';
import { fingerprintBytesLE, fingerprintHex, rabinFingerprint64 } from './rabin';

// Canonical forms and fingerprints from Apache Avro's share/test/data/schema-tests.txt (the
// fingerprints there are signed 64-bit decimals, as Java prints them).
const SPEC_VECTORS: Array<[input: string, canonical: string, fingerprint: string]> = [
  ['"null"', '"null"', '7195948357588979594'],
  ['"boolean"', '"boolean"', '-6970731678124411036'],
  ['"int"', '"int"', '8247732601305521295'],
  ['"long"', '"long"', '-3434872931120570953'],
  ['"float"', '"float"', '5583340709985441680'],
  ['"double"', '"double"', '-8181574048448539266'],
  ['"bytes"', '"bytes"', '5746618253357095269'],
  ['"string"', '"string"', '-8142146995180207161'],
  ['[  ]', '[]', '-1241056759729112623'],
  ['[ "int"  ]', '["int"]', '-5232228896498058493'],
  ['[ "int" , {"type":"boolean"} ]', '["int","boolean"]', '5392556393470105090'],
  [
    '{"fields":[], "type":"record", "name":"foo"}',
    '{"name":"foo","type":"record","fields":[]}',
    '-4824392279771201922',
  ],
  [
    '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
    '{"name":"x.y.foo","type":"record","fields":[]}',
    '5916914534497305771',
  ],
  [
    '{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}',
    '{"name":"a.b.foo","type":"record","fields":[]}',
    '-4616218487480524110',
  ],
  [
    '{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}',
    '{"name":"foo","type":"record","fields":[]}',
    '-4824392279771201922',
  ],
  [
    '{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", "name":"foo"}',
    '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}',
    '7843277075252814651',
  ],
  [
    '{ "fields":[{"type":"boolean", "aliases":[], "name":"f1", "default":true},' +
      ' {"order":"descending","name":"f2","doc":"Hello","type":"int"}], "type":"record", "name":"foo" }',
    '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
    '-4860222112080293046',
  ],
  [
    '{"type":"enum", "name":"foo", "symbols":["A1"]}',
    '{"name":"foo","type":"enum","symbols":["A1"]}',
    '-6342190197741309591',
  ],
  [
    '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}',
    '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
    '-4448647247586288245',
  ],
  [
    '{"name":"foo","type":"fixed","size":15}',
    '{"name":"foo","type":"fixed","size":15}',
    '1756455273707447556',
  ],
  [
    '{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}',
    '{"name":"x.y.z.foo","type":"fixed","size":32}',
    '-3064184465700546786',
  ],
  ['{ "items":{"type":"null"}, "type":"array"}', '{"type":"array","items":"null"}', '-589620603366471059'],
  ['{ "values":"string", "type":"map"}', '{"type":"map","values":"string"}', '-8732877298790414990'],
  [
    '{"name":"PigValue","type":"record", "fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
    '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
    '-1759257747318642341',
  ],
];

const unsigned = (signedDecimal: string): bigint => BigInt.asUintN(64, BigInt(signedDecimal));

describe(rabinFingerprint64.name, () => {
  it('gives 0x7275d51a3f395c8f for the canonical form "int" (the spec example)', () => {
    expect(rabinFingerprint64('"int"')).toBe(0x7275d51a3f395c8fn);
  });

  it.each(SPEC_VECTORS)('matches the Apache Avro test vector for %s', (_input, canonical, fingerprint) => {
    expect(rabinFingerprint64(canonical)).toBe(unsigned(fingerprint));
  });

  it('hashes bytes and their UTF-8 string alike', () => {
    expect(rabinFingerprint64(Buffer.from('"string"'))).toBe(rabinFingerprint64('"string"'));
  });

  it('is the empty fingerprint for no input', () => {
    expect(rabinFingerprint64('')).toBe(0xc15d213aa4d7a795n);
  });
});

describe('Parsing Canonical Form (avsc schema())', () => {
  // The single-object header is only portable if our canonical form is the spec's. avsc rejects
  // the empty union, so that vector is checked by the fingerprint test only.
  const parseable = SPEC_VECTORS.filter(([input]) => input !== '[  ]');

  it.each(parseable)('canonicalises %s like the spec', (input, canonical, fingerprint) => {
    const form = JSON.stringify(
      Type.forSchema(JSON.parse(input) as Parameters<typeof Type.forSchema>[0]).schema(),
    );
    expect(form).toBe(canonical);
    expect(rabinFingerprint64(form)).toBe(unsigned(fingerprint));
  });
});

describe(fingerprintBytesLE.name, () => {
  it('writes the fingerprint little-endian, as single-object encoding requires', () => {
    expect(fingerprintBytesLE(0x7275d51a3f395c8fn).toString('hex')).toBe('8f5c393f1ad57572');
  });
});

describe(fingerprintHex.name, () => {
  it('prints 16 hex digits, most significant first, zero-padded', () => {
    expect(fingerprintHex(0x7275d51a3f395c8fn)).toBe('7275d51a3f395c8f');
    expect(fingerprintHex(0x1fn)).toBe('000000000000001f');
  });
});
