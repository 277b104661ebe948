import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import {
  AvroCodec,
  codecFor,
  exampleClickEvent,
  exampleMessages,
  exampleProfileUpdated,
  MESSAGE_NAMES,
  schemasDir,
} from '@app/contracts';

// Interoperability: messages from our codec are decoded by Apache Avro's own Python library
// (Debian's python3-avro) with nothing but the .avsc file, and the single-object fingerprint is
// checked against the canonical form that library computes.
const PYTHON = process.env.PORTRAIT_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.resolve(__dirname, '..', 'interop', 'decode_single_object.py');

interface PythonDecoded {
  canonical_form: string;
  fingerprint: string;
  value: unknown;
}

function decodeWithPython(messageName: string, message: Buffer): PythonDecoded {
  const out = execFileSync(PYTHON, [SCRIPT, path.join(schemasDir(), `${messageName}.avsc`)], {
    input: message,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out) as PythonDecoded;
}

/** The JSON form the Python script prints: bytes as "hex:...". */
function asPythonJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `hex:${value.toString('hex')}`;
  if (Array.isArray(value)) return value.map(asPythonJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asPythonJson(v)]));
  }
  return value;
}

describe('Avro interoperability with Apache Avro (Python)', () => {
  beforeAll(() => {
    const probe = spawnSync(PYTHON, ['-c', 'import avro.schema, avro.io'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      throw new Error(
        `Apache Avro's Python library is not importable by ${PYTHON}: install it with ` +
          '`apt-get install -y python3-avro` (Debian package for /usr/bin/python3), or point PORTRAIT_PYTHON at a ' +
          `python with the avro package. Details: ${probe.error?.message ?? probe.stderr}`,
      );
    }
  });

  it.each([
    ['ClickEvent', () => exampleClickEvent()],
    ['ProfileUpdated', () => exampleProfileUpdated()],
  ] as const)('decodes our %s field for field', (name, example) => {
    const codec = codecFor(name) as unknown as AvroCodec<unknown, unknown>;
    const value = example();
    const decoded = decodeWithPython(name, codec.encode(value));

    expect(decoded.canonical_form).toBe(codec.canonicalForm);
    expect(decoded.fingerprint).toBe(codec.fingerprintHex);
    expect(decoded.value).toEqual(asPythonJson(value));
  });

  it.each(MESSAGE_NAMES.map((n) => [n]))('decodes every message type, fingerprint checked: %s', (name) => {
    const codec = codecFor(name) as unknown as AvroCodec<unknown, unknown>;
    const value = exampleMessages()[name];
    const decoded = decodeWithPython(name, codec.encode(value));
    expect(decoded.fingerprint).toBe(codec.fingerprintHex);
    expect(decoded.value).toEqual(asPythonJson(value));
  });

  it('refuses a message whose fingerprint does not match the schema (the check is real)', () => {
    const message = codecFor('ClickEvent').encode(exampleClickEvent());
    message[2] ^= 0xff;
    const run = spawnSync(PYTHON, [SCRIPT, path.join(schemasDir(), 'ClickEvent.avsc')], {
      input: message,
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/fingerprint mismatch/);
  });
});
