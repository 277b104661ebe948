import { Type } from 'avsc';
import { CorruptBlockError, hardeningTypeHook } from './avro-guards';
import { fastStringTypeHook } from './avro-string';
import { CompiledWriter, compileWriter, INVALID_VALUE } from './avro-writer';
import { ContractDecodeError, ContractEncodeError, DecodeReasonCode, FieldProblem } from './contract-errors';
import { fingerprintBytesLE, fingerprintHex, rabinFingerprint64 } from './rabin';
import { currentSchemaPath, listReleasedSchemas, readSchemaFile, schemasDir } from './schema-files';

/**
 * Single-object Avro encoding (Avro spec, "Single-object encoding"): `C3 01`, the 8-byte
 * little-endian CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical Form, then the
 * Avro binary body. Any Avro implementation decodes our messages with the `.avsc` files alone.
 *
 * Speed: everything per schema (types, resolvers, header, fingerprints) is computed once; per
 * call we allocate only the output buffer and the decoded value. Measured with
 * libs/contracts/bench/codec-rate.ts (node 20, encode+decode round trips per CPU-second of one
 * core, on the shared 2-core dev VM while it was heavily loaded, so a floor rather than a peak):
 * ClickEvent with every field set (377 B) ~97,000/s (JSON stringify+parse of it: ~112,000/s);
 * ClickEvent as a dataset row (121 B) ~163,000/s; UserFeatures ~100,000-135,000/s;
 * ProfileUpdated ~45,000/s (before the compiled writers of avro-writer.ts, which more than doubled
 * encoding; the bench now prints encodes per CPU-second too).
 */
export const SINGLE_OBJECT_MAGIC_0 = 0xc3;
export const SINGLE_OBJECT_MAGIC_1 = 0x01;
/** Bytes before the Avro body: 2 magic bytes + 8 fingerprint bytes. */
export const SINGLE_OBJECT_HEADER_LENGTH = 10;

/**
 * avsc options shared by reader and writer types. `wrapUnions: 'never'` keeps every `[null, X]`
 * union a plain `X | null` in JavaScript (no `{string: "..."}` wrappers), inside maps too.
 * `omitRecordMethods` keeps avsc's helper methods off decoded records.
 */
const AVSC_OPTIONS = { wrapUnions: 'never', omitRecordMethods: true } as const;

type Resolver = ReturnType<Type['createResolver']>;

const INITIAL_SCRATCH_BYTES = 16 * 1024;
const MAX_SCRATCH_BYTES = 1024 * 1024;

interface WriterEntry {
  /** `v1`, `v2`... for released versions, `current` for an unreleased current schema. */
  version: string;
  canonicalForm: string;
  /** undefined when the writer schema is the current schema (no resolution needed). */
  resolver: Resolver | undefined;
}

/** What `tryDecode` returns: the value and the writer schema version, or why decoding failed. */
export type DecodeResult<T> =
  | { ok: true; value: T; writerVersion: string }
  | { ok: false; reasonCode: DecodeReasonCode; error: ContractDecodeError };

/** Information about a writer schema the codec can read. */
export interface WriterSchemaInfo {
  fingerprint: string;
  version: string;
  canonicalForm: string;
}

/**
 * Parses an Avro schema (object or JSON text) into an avsc type with our options, the array/map
 * readers guarded against corrupt block counts (avro-guards.ts) and the faster string writer
 * (avro-string.ts).
 */
export function parseSchema(schema: unknown): Type {
  const parsed: unknown = typeof schema === 'string' ? JSON.parse(schema) : schema;
  return Type.forSchema(parsed as Parameters<typeof Type.forSchema>[0], {
    ...AVSC_OPTIONS,
    typeHook: (s: unknown, opts: unknown) => hardeningTypeHook(s, opts) ?? fastStringTypeHook(s),
  });
}

/**
 * The Avro Parsing Canonical Form of a type. avsc's `schema()` without options strips docs,
 * defaults, aliases and namespaces (names made full) and orders attributes as the spec wants;
 * this was checked against Apache Avro's own Python library (see the interop test).
 */
export function canonicalForm(type: Type): string {
  return JSON.stringify(type.schema());
}

/** The fingerprint (16 hex digits) in a single-object header, or null if `buf` has no such header. */
export function peekFingerprint(buf: Uint8Array): string | null {
  if (
    buf.length < SINGLE_OBJECT_HEADER_LENGTH ||
    buf[0] !== SINGLE_OBJECT_MAGIC_0 ||
    buf[1] !== SINGLE_OBJECT_MAGIC_1
  ) {
    return null;
  }
  return fingerprintHex(toBuffer(buf).readBigUInt64LE(2));
}

/**
 * Encoder/decoder of one message contract (`T` is the decoded shape, `I` what `encode` accepts:
 * the same, except that fields with a schema default may be left out).
 */
export class AvroCodec<T, I = T> {
  /** The current (reader) type. */
  readonly type: Type;
  /** Full Avro name, e.g. `portrait.v1.ClickEvent`. */
  readonly fullName: string;
  readonly canonicalForm: string;
  readonly fingerprint: bigint;
  /** Fingerprint as 16 hex digits. */
  readonly fingerprintHex: string;

  private readonly header: Buffer;
  private readonly fpLo: number;
  private readonly fpHi: number;
  private readonly writers = new Map<string, WriterEntry>();
  private readonly currentWriter: WriterEntry;
  private scratch: Buffer;
  /** The schema's compiled writer (avro-writer.ts); null: avsc writes it. */
  private readonly compiled: CompiledWriter | null;
  private lastWriterVersion = 'current';

  /**
   * @param messageName short name, e.g. `ClickEvent`; must match the schema's record name.
   * @param schema the current schema (object or JSON text).
   */
  constructor(
    readonly messageName: string,
    schema: unknown,
  ) {
    this.type = parseSchema(schema);
    this.fullName = this.type.name ?? '';
    if (this.fullName !== messageName && !this.fullName.endsWith(`.${messageName}`)) {
      throw new Error(`schema for ${messageName} defines ${this.fullName || 'an unnamed type'}`);
    }
    this.canonicalForm = canonicalForm(this.type);
    this.fingerprint = rabinFingerprint64(this.canonicalForm);
    this.fingerprintHex = fingerprintHex(this.fingerprint);
    const fp = fingerprintBytesLE(this.fingerprint);
    this.fpLo = fp.readUInt32LE(0);
    this.fpHi = fp.readUInt32LE(4);
    this.header = Buffer.concat([Buffer.from([SINGLE_OBJECT_MAGIC_0, SINGLE_OBJECT_MAGIC_1]), fp]);
    this.currentWriter = { version: 'current', canonicalForm: this.canonicalForm, resolver: undefined };
    this.writers.set(this.fingerprintHex, this.currentWriter);
    this.scratch = Buffer.alloc(INITIAL_SCRATCH_BYTES);
    this.header.copy(this.scratch, 0);
    this.compiled = compileWriter(this.type);
  }

  /**
   * The codec for `schemas/<messageName>.avsc`, able to read every released version in
   * `schemas/released/<messageName>.v<N>.avsc` too.
   */
  static fromSchemasDir<T, I = T>(messageName: string, dir: string = schemasDir()): AvroCodec<T, I> {
    const codec = new AvroCodec<T, I>(messageName, readSchemaFile(currentSchemaPath(messageName, dir)));
    for (const released of listReleasedSchemas(messageName, dir)) {
      codec.registerWriterSchema(readSchemaFile(released.path), released.label);
    }
    return codec;
  }

  /**
   * Makes messages written with `schema` (an older or otherwise compatible version) decodable:
   * they are resolved into the current schema, missing fields taking their defaults. Throws if
   * the current schema cannot read that writer schema. Returns the writer's fingerprint (hex).
   */
  registerWriterSchema(schema: unknown, version?: string): string {
    const writerType = parseSchema(schema);
    const form = canonicalForm(writerType);
    const hex = fingerprintHex(rabinFingerprint64(form));
    const label = version ?? `fp:${hex}`;
    if (hex === this.fingerprintHex) {
      this.currentWriter.version = label;
      return hex;
    }
    let resolver: Resolver;
    try {
      resolver = this.type.createResolver(writerType);
    } catch (err) {
      throw new Error(
        `the current ${this.messageName} schema cannot read writer schema ${label}: ${(err as Error).message}`,
      );
    }
    if (!this.writers.has(hex)) {
      this.writers.set(hex, { version: label, canonicalForm: form, resolver });
    }
    return hex;
  }

  /** Writer schemas this codec decodes (the current one included). */
  writerSchemas(): WriterSchemaInfo[] {
    return [...this.writers].map(([fingerprint, w]) => ({
      fingerprint,
      version: w.version,
      canonicalForm: w.canonicalForm,
    }));
  }

  /** Problems that keep `value` from being encoded; empty when it is valid. */
  validate(value: unknown): FieldProblem[] {
    const problems: FieldProblem[] = [];
    this.type.isValid(value, {
      errorHook: (path: string[], val: unknown, type: Type) => {
        problems.push({ path: path.join('.'), expected: describeType(type), actual: describeValue(val) });
      },
    });
    return problems;
  }

  /** Single-object encoding of `value`; throws ContractEncodeError naming the bad fields. */
  encode(value: I): Buffer {
    if (this.compiled !== null) {
      try {
        return this.encodeCompiled(value, this.compiled);
      } catch (err) {
        if (err !== INVALID_VALUE) throw err;
        // avsc says which fields are wrong (and, should the two ever disagree, writes the value).
      }
    }
    return this.encodeAvsc(value);
  }

  /**
   * Writes the single-object encoding of `value` into `out` from `at` — for callers that keep many
   * messages in one buffer of their own instead of a Buffer each — and returns where it ends; -1
   * when it does not fit (or this schema has no compiled writer): use `encode` then. Throws
   * ContractEncodeError as `encode` does.
   */
  encodeInto(value: I, out: Buffer, at: number): number {
    const write = this.compiled;
    if (write === null || out.length - at < SINGLE_OBJECT_HEADER_LENGTH) return -1;
    try {
      const end = write(value, out, at + SINGLE_OBJECT_HEADER_LENGTH);
      if (end < 0) return -1;
      this.header.copy(out, at);
      return end;
    } catch (err) {
      if (err !== INVALID_VALUE) throw err;
    }
    this.encodeAvsc(value); // throws, naming the fields
    return -1; // (should avsc ever accept what the compiled writer refused: encode() writes it)
  }

  /**
   * Checks and writes in one pass into the scratch buffer, grown (up to 1 MiB) and retried when
   * too small; larger messages get buffers of their own.
   */
  private encodeCompiled(value: I, write: CompiledWriter): Buffer {
    let buf = this.scratch;
    for (;;) {
      const end = write(value, buf, SINGLE_OBJECT_HEADER_LENGTH);
      if (end >= 0) {
        const out = Buffer.allocUnsafe(end);
        buf.copy(out, 0, 0, end);
        return out;
      }
      const size = 2 * buf.length;
      buf = size <= MAX_SCRATCH_BYTES ? (this.scratch = Buffer.alloc(size)) : Buffer.allocUnsafe(size);
      this.header.copy(buf, 0);
    }
  }

  private encodeAvsc(value: I): Buffer {
    if (!this.type.isValid(value)) {
      throw new ContractEncodeError(this.messageName, this.validate(value));
    }
    const end = this.type.encode(value, this.scratch, SINGLE_OBJECT_HEADER_LENGTH);
    if (end < 0) {
      // encode() returns minus the missing byte count when the buffer is too small.
      return this.encodeLarge(value, this.scratch.length - end);
    }
    const out = Buffer.allocUnsafe(end);
    this.scratch.copy(out, 0, 0, end);
    return out;
  }

  /**
   * Messages that do not fit the scratch buffer are written straight into their own buffer. The
   * scratch buffer grows for sizes up to 1 MiB only, so one large model update does not pin
   * megabytes for the life of the process.
   */
  private encodeLarge(value: I, size: number): Buffer {
    if (size <= MAX_SCRATCH_BYTES) {
      this.scratch = Buffer.alloc(Math.min(MAX_SCRATCH_BYTES, Math.max(size, 2 * this.scratch.length)));
      this.header.copy(this.scratch, 0);
      return this.encodeAvsc(value);
    }
    const out = Buffer.allocUnsafe(size);
    this.header.copy(out, 0);
    const end = this.type.encode(value, out, SINGLE_OBJECT_HEADER_LENGTH);
    if (end !== size) {
      throw new Error(`${this.messageName}: encoded size changed between passes (${size} then ${end})`);
    }
    return out;
  }

  /**
   * True when `bytes` (from `start`) is a single-object message written with the current schema
   * (the fast paths' test).
   */
  isCurrentWriter(bytes: Buffer, start = 0): boolean {
    return (
      bytes.length - start >= SINGLE_OBJECT_HEADER_LENGTH &&
      bytes[start] === SINGLE_OBJECT_MAGIC_0 &&
      bytes[start + 1] === SINGLE_OBJECT_MAGIC_1 &&
      bytes.readUInt32LE(start + 2) === this.fpLo &&
      bytes.readUInt32LE(start + 6) === this.fpHi
    );
  }

  /** Decodes a single-object message into the current schema; throws ContractDecodeError. */
  decode(bytes: Uint8Array): T {
    const buf = toBuffer(bytes);
    if (
      buf.length < SINGLE_OBJECT_HEADER_LENGTH ||
      buf[0] !== SINGLE_OBJECT_MAGIC_0 ||
      buf[1] !== SINGLE_OBJECT_MAGIC_1
    ) {
      throw this.notSingleObject(buf);
    }
    let writer: WriterEntry | undefined;
    if (buf.readUInt32LE(2) === this.fpLo && buf.readUInt32LE(6) === this.fpHi) {
      writer = this.currentWriter;
    } else {
      const hex = fingerprintHex(buf.readBigUInt64LE(2));
      writer = this.writers.get(hex);
      if (writer === undefined) {
        throw new ContractDecodeError(
          'unknown_fingerprint',
          `${this.messageName}: unknown writer schema fingerprint ${hex} (known: ${[...this.writers.keys()].join(', ')})`,
          this.messageName,
          hex,
        );
      }
    }
    let result: { value: unknown; offset: number };
    try {
      result = this.type.decode(buf, SINGLE_OBJECT_HEADER_LENGTH, writer.resolver);
    } catch (err) {
      const why =
        err instanceof CorruptBlockError ? err.message : `avro decoder failed: ${(err as Error).message}`;
      throw new ContractDecodeError(
        'corrupt_avro',
        `${this.messageName}: corrupt Avro body (${why})`,
        this.messageName,
      );
    }
    if (result.offset < 0) {
      throw new ContractDecodeError(
        'corrupt_avro',
        `${this.messageName}: corrupt Avro body (truncated: ${buf.length} bytes are not enough for ${writer.version})`,
        this.messageName,
      );
    }
    if (result.offset !== buf.length) {
      throw new ContractDecodeError(
        'corrupt_avro',
        `${this.messageName}: corrupt Avro body (${buf.length - result.offset} trailing bytes after the ${writer.version} value)`,
        this.messageName,
      );
    }
    this.lastWriterVersion = writer.version;
    return result.value as T;
  }

  /** Like `decode`, but returns failures as values (for dead-lettering) instead of throwing. */
  tryDecode(bytes: Uint8Array): DecodeResult<T> {
    try {
      const value = this.decode(bytes);
      return { ok: true, value, writerVersion: this.lastWriterVersion };
    } catch (err) {
      if (err instanceof ContractDecodeError) {
        return { ok: false, reasonCode: err.reasonCode, error: err };
      }
      throw err;
    }
  }

  private notSingleObject(buf: Buffer): ContractDecodeError {
    const why =
      buf.length < 2 || buf[0] !== SINGLE_OBJECT_MAGIC_0 || buf[1] !== SINGLE_OBJECT_MAGIC_1
        ? `does not start with the single-object marker C3 01 (starts with ${buf.subarray(0, 2).toString('hex') || 'nothing'})`
        : `is ${buf.length} bytes, shorter than the ${SINGLE_OBJECT_HEADER_LENGTH}-byte single-object header`;
    return new ContractDecodeError(
      'not_single_object',
      `${this.messageName}: message ${why}`,
      this.messageName,
    );
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface DescribableType {
  typeName: string;
  name?: string;
  types?: DescribableType[];
  itemsType?: DescribableType;
  valuesType?: DescribableType;
}

function describeType(type: Type): string {
  const t = type as unknown as DescribableType;
  if (t.name) return t.name.slice(t.name.lastIndexOf('.') + 1);
  if (t.types) return `[${t.types.map((b) => describeType(b as unknown as Type)).join(',')}]`;
  if (t.itemsType) return `array<${describeType(t.itemsType as unknown as Type)}>`;
  if (t.valuesType) return `map<${describeType(t.valuesType as unknown as Type)}>`;
  return t.typeName;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined (missing)';
  if (v === null) return 'null';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
    return `${typeof v} ${String(v)}`;
  if (Buffer.isBuffer(v)) return `Buffer(${v.length})`;
  if (Array.isArray(v)) return `array(${v.length})`;
  return typeof v;
}
