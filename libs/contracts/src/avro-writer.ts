import type { Type } from 'avsc';

/**
 * Compiled Avro writers: one generated function per schema that checks and writes a value in a
 * single pass, with every primitive written inline.
 *
 * Why: avsc checks a value (`isValid`, a walk over the whole value) and then writes it through one
 * `_write` call per field, each a call through a different type object. In a profile of the
 * aggregator's hot path, encoding its `UserFeatures` (~100 values, ~300 bytes, one per touched
 * user) this way took about a tenth of the CPU. Encodes per CPU-second
 * (libs/contracts/bench/codec-rate.ts, two runs each on the noisy 2-core VM): UserFeatures
 * 324k/331k → 786k/728k; ClickEvent with every field set 146k/210k → 449k/301k; ProfileUpdated
 * 84k/131k → 290k/201k.
 *
 * The bytes are avsc's: the same checks (`int`: `v === (v | 0)`, `long`: a safe integer, `double`
 * and `float`: any number, record fields with a default may be undefined...), the same union
 * branch choice (avsc's value buckets: null, number, string, boolean, buffer, array, object), the
 * same block layout for arrays and maps (one block then 0; none for an empty one) and the same
 * string bytes (avsc writes a lone surrogate of a short string as three bytes of its own code
 * unit, as does this). avro-writer.spec.ts compares both on random values of every schema.
 *
 * Types it does not know (enum, fixed, logical types, wrapped unions) make
 * `compileWriter` return null, and the codec keeps avsc's writer for that schema.
 */

/** Thrown by a compiled writer for a value the schema cannot hold (the codec then asks avsc why). */
export const INVALID_VALUE = new Error('value does not match the schema');

/** Writes `value` at `pos`; returns the end position, or -1 when `buf` is too small. */
export type CompiledWriter = (value: unknown, buf: Buffer, pos: number) => number;

interface TypeInternals {
  typeName: string;
  itemsType?: Type;
  valuesType?: Type;
  types?: Type[];
  fields?: Array<{ name: string; type: Type; defaultValue(): unknown }>;
  _dynamicBranches?: unknown;
}

class Unsupported extends Error {}

const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const F32 = new Float32Array(1);
const F32_BYTES = new Uint8Array(F32.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Code generator state: variable names and the constants (default bytes) the code refers to. */
class Gen {
  private n = 0;
  readonly constants: unknown[] = [];
  /** Generated functions, one per record type. */
  readonly functions: string[] = [];
  private readonly records = new Map<Type, string>();

  /** A fresh variable name (`_` keeps them apart from the fixed names: buf, pos, F64...). */
  v(prefix: string): string {
    return `${prefix}_${this.n++}`;
  }

  constant(value: unknown): string {
    this.constants.push(value);
    return `k_${this.constants.length - 1}`;
  }

  /** Statements writing the value in variable `x` of type `type`. */
  write(type: Type, x: string): string {
    const t = type as unknown as TypeInternals;
    switch (t.typeName) {
      case 'null':
        return `if (${x} !== null) throw INVALID;\n`;
      case 'boolean':
        return `if (typeof ${x} !== 'boolean') throw INVALID;\nif (pos >= buf.length) return -1;\nbuf[pos++] = ${x} ? 1 : 0;\n`;
      case 'int':
        return `if (${x} !== (${x} | 0)) throw INVALID;\nif (pos + 5 > buf.length) return -1;\n${varint(x)}`;
      case 'long':
        return (
          `if (typeof ${x} !== 'number' || ${x} % 1 !== 0 || !(${x} >= -9007199254740990 && ${x} <= 9007199254740990)) throw INVALID;\n` +
          `if (pos + 10 > buf.length) return -1;\n${varint(x)}`
        );
      case 'float':
        return `if (typeof ${x} !== 'number') throw INVALID;\nif (pos + 4 > buf.length) return -1;\nF32[0] = ${x};\nbuf[pos] = F32B[0]; buf[pos + 1] = F32B[1]; buf[pos + 2] = F32B[2]; buf[pos + 3] = F32B[3];\npos += 4;\n`;
      case 'double':
        return `if (typeof ${x} !== 'number') throw INVALID;\nif (pos + 8 > buf.length) return -1;\nF64[0] = ${x};\nbuf[pos] = F64B[0]; buf[pos + 1] = F64B[1]; buf[pos + 2] = F64B[2]; buf[pos + 3] = F64B[3];\nbuf[pos + 4] = F64B[4]; buf[pos + 5] = F64B[5]; buf[pos + 6] = F64B[6]; buf[pos + 7] = F64B[7];\npos += 8;\n`;
      case 'string':
        return `if (typeof ${x} !== 'string') throw INVALID;\n${this.str(x)}`;
      case 'bytes': {
        const n = this.v('n');
        return (
          `if (!Buffer.isBuffer(${x})) throw INVALID;\nconst ${n} = ${x}.length;\n` +
          `if (pos + 10 + ${n} > buf.length) return -1;\n${varint(n)}${x}.copy(buf, pos);\npos += ${n};\n`
        );
      }
      case 'record':
        return this.record(type, x);
      case 'array': {
        const n = this.v('n');
        const i = this.v('i');
        const item = this.v('x');
        return (
          `if (!Array.isArray(${x})) throw INVALID;\nconst ${n} = ${x}.length;\n` +
          `if (pos + 11 > buf.length) return -1;\nif (${n} !== 0) {\n${varint(n)}` +
          `for (let ${i} = 0; ${i} < ${n}; ${i}++) {\nconst ${item} = ${x}[${i}];\n${this.write(t.itemsType!, item)}}\n` +
          `if (pos >= buf.length) return -1;\n}\nbuf[pos++] = 0;\n`
        );
      }
      case 'map': {
        const keys = this.v('keys');
        const n = this.v('n');
        const i = this.v('i');
        const key = this.v('key');
        const value = this.v('x');
        return (
          `if (!${x} || typeof ${x} !== 'object' || Array.isArray(${x})) throw INVALID;\n` +
          `const ${keys} = Object.keys(${x});\nconst ${n} = ${keys}.length;\n` +
          `if (pos + 11 > buf.length) return -1;\nif (${n} !== 0) {\n${varint(n)}` +
          `for (let ${i} = 0; ${i} < ${n}; ${i}++) {\nconst ${key} = ${keys}[${i}];\n${this.str(key)}` +
          `const ${value} = ${x}[${key}];\n${this.write(t.valuesType!, value)}}\n` +
          `if (pos >= buf.length) return -1;\n}\nbuf[pos++] = 0;\n`
        );
      }
      case 'union:unwrapped':
        return this.union(type, x);
      default:
        throw new Unsupported(t.typeName);
    }
  }

  /** A string (already known to be one): avsc's bytes, ASCII up to 63 characters in one pass. */
  private str(x: string): string {
    const n = this.v('n');
    const i = this.v('i');
    return (
      `const ${n} = ${x}.length;\n` +
      `if (${n} <= 63 && pos + 1 + ${n} <= buf.length) {\n` +
      `let ${i} = 0;\nfor (; ${i} < ${n}; ${i}++) { const c = ${x}.charCodeAt(${i}); if (c >= 0x80) break; buf[pos + 1 + ${i}] = c; }\n` +
      `if (${i} === ${n}) { buf[pos] = ${n} << 1; pos += 1 + ${n}; } else { pos = writeString(${x}, buf, pos); if (pos < 0) return -1; }\n` +
      `} else { pos = writeString(${x}, buf, pos); if (pos < 0) return -1; }\n`
    );
  }

  /** A call of the record's own function (generated once per record type; recursion works). */
  private record(type: Type, x: string): string {
    let name = this.records.get(type);
    if (name === undefined) {
      name = `r_${this.records.size}`;
      this.records.set(type, name);
      let code = `if (v === null || typeof v !== 'object') throw INVALID;\n`;
      for (const field of (type as unknown as TypeInternals).fields!) {
        const f = this.v('f');
        code += `const ${f} = v[${JSON.stringify(field.name)}];\n`;
        const def = field.defaultValue();
        if (def === undefined) {
          code += this.write(field.type, f);
        } else {
          const bytes = field.type.toBuffer(def);
          const k = this.constant(bytes);
          code +=
            `if (${f} === undefined) {\nif (pos + ${bytes.length} > buf.length) return -1;\n` +
            `${k}.copy(buf, pos);\npos += ${bytes.length};\n} else {\n${this.write(field.type, f)}}\n`;
        }
      }
      this.functions.push(`function ${name}(v, buf, pos) {\n${code}return pos;\n}\n`);
    }
    return `pos = ${name}(${x}, buf, pos);\nif (pos < 0) return -1;\n`;
  }

  /** avsc's unwrapped union: the branch of the value's bucket (getValueBucket in avsc). */
  private union(type: Type, x: string): string {
    const t = type as unknown as TypeInternals;
    if (t._dynamicBranches) throw new Unsupported('union with logical-type branches');
    const byBucket = new Map<string, number>();
    t.types!.forEach((branch, index) => byBucket.set(bucketOf(branch), index));
    const branch = (bucket: string): string => {
      const index = byBucket.get(bucket);
      if (index === undefined) return 'throw INVALID;\n';
      const write = bucket === 'null' ? '' : this.write(t.types![index], x);
      return `if (pos + 10 > buf.length) return -1;\n${varint(String(index))}${write}`;
    };
    return (
      `if (${x} === null) {\n${branch('null')}} else if (typeof ${x} === 'number') {\n${branch('number')}` +
      `} else if (typeof ${x} === 'string') {\n${branch('string')}} else if (typeof ${x} === 'boolean') {\n${branch('boolean')}` +
      `} else if (typeof ${x} === 'object') {\nif (Array.isArray(${x})) {\n${branch('array')}} else if (Buffer.isBuffer(${x})) {\n${branch('buffer')}` +
      `} else {\n${branch('object')}}\n} else throw INVALID;\n`
    );
  }
}

/** avsc's getTypeBucket for the types compileWriter supports. */
function bucketOf(type: Type): string {
  const name = (type as unknown as TypeInternals).typeName;
  switch (name) {
    case 'null':
    case 'boolean':
    case 'string':
    case 'array':
      return name;
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 'number';
    case 'bytes':
      return 'buffer';
    case 'map':
    case 'record':
      return 'object';
    default:
      throw new Unsupported(name);
  }
}

/** Zig-zag varint of the integer in `x` at `pos` (avsc's Tap#writeLong; room already checked). */
function varint(x: string): string {
  return (
    `if (${x} >= -1073741824 && ${x} < 1073741824) {\n` +
    `let m = ${x} >= 0 ? ${x} << 1 : (~${x} << 1) | 1;\nwhile (m > 0x7f) { buf[pos++] = (m & 0x7f) | 0x80; m >>>= 7; }\nbuf[pos++] = m;\n` +
    `} else {\nlet m = ${x} >= 0 ? ${x} * 2 : -${x} * 2 - 1;\ndo { buf[pos] = m & 0x7f; m /= 128; } while (m >= 1 && (buf[pos++] |= 0x80));\npos++;\n}\n`
  );
}

/** Strings other than short ASCII: avsc's Tap#writeString. Returns the end, or -1 when out of room. */
function writeString(s: string, buf: Buffer, pos: number): number {
  const len = Buffer.byteLength(s);
  if (pos + 10 + len > buf.length) return -1;
  let m = len << 1;
  while (m > 0x7f) {
    buf[pos++] = (m & 0x7f) | 0x80;
    m >>>= 7;
  }
  buf[pos++] = m;
  if (len > 64) {
    (buf as Buffer & { utf8Write(s: string, offset: number, length: number): number }).utf8Write(s, pos, len);
    return pos + len;
  }
  // avsc's own loop (a lone surrogate becomes the three bytes of its code unit, as avsc writes it).
  for (let i = 0, l = s.length; i < l; i++) {
    let c1 = s.charCodeAt(i);
    let c2: number;
    if (c1 < 0x80) {
      buf[pos++] = c1;
    } else if (c1 < 0x800) {
      buf[pos++] = (c1 >> 6) | 0xc0;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    } else if ((c1 & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
      c1 = 0x10000 + ((c1 & 0x03ff) << 10) + (c2 & 0x03ff);
      i++;
      buf[pos++] = (c1 >> 18) | 0xf0;
      buf[pos++] = ((c1 >> 12) & 0x3f) | 0x80;
      buf[pos++] = ((c1 >> 6) & 0x3f) | 0x80;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    } else {
      buf[pos++] = (c1 >> 12) | 0xe0;
      buf[pos++] = ((c1 >> 6) & 0x3f) | 0x80;
      buf[pos++] = (c1 & 0x3f) | 0x80;
    }
  }
  return pos;
}

/** The compiled writer of `type`, or null when it uses a type this compiler does not know. */
export function compileWriter(type: Type): CompiledWriter | null {
  if (!LITTLE_ENDIAN) return null; // floats are copied from a typed array's bytes
  const gen = new Gen();
  let body: string;
  try {
    body = gen.write(type, 'value');
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
  const names = gen.constants.map((_, i) => `k_${i}`);
  const source = `${gen.functions.join('')}return function compiledWrite(value, buf, pos) {\n${body}return pos;\n};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from a parsed schema, like avsc's own writers
  const factory = new Function('INVALID', 'writeString', 'F64', 'F64B', 'F32', 'F32B', ...names, source) as (
    ...args: unknown[]
  ) => CompiledWriter;
  return factory(INVALID_VALUE, writeString, F64, F64_BYTES, F32, F32_BYTES, ...gen.constants);
}
