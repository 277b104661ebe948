import { Type, types } from 'avsc';

/**
 * TRICKY: avsc trusts the block counts of arrays and maps. A corrupt message whose count varint
 * says 2^40 makes its reader allocate and loop that many times (out-of-memory or a hang instead of
 * a dead letter), and a negative block byte-size makes `_skip` move backwards (an endless loop).
 * Every array and map type of our schemas is built (through avsc's `typeHook` option) as a
 * subclass whose `_read`/`_skip` are copies of avsc's own code plus one check: a block cannot hold more entries than bytes are left, because every entry
 * takes at least one byte (the schema test asserts that no array or map of ours has zero-byte
 * entries). The work of decoding a message is then bounded by its length.
 *
 * This relies on avsc internals (`_read`, `_skip`, the Tap fields) of the pinned avsc 5.7.9
 * (resolvers copy `_read` from the reader type, writer-only fields use the writer's `_skip`).
 * The corrupt-bytes unit tests fail loudly if avsc changes.
 */

interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
  skipString(): void;
}

interface Readable {
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
}

interface ArrayInternals extends Readable {
  itemsType: Readable;
}

interface MapInternals extends Readable {
  valuesType: Readable;
}

interface TypeInternals {
  typeName: string;
  itemsType?: Type;
  valuesType?: Type;
  types?: Type[];
  fields?: Array<{ type: Type }>;
  underlyingType?: Type;
}

/** Thrown from inside a read when a block count cannot be right; the codec reports corrupt_avro. */
export class CorruptBlockError extends Error {}

function invalidate(tap: Tap): void {
  tap.pos = tap.buf.length + 1;
}

function readBlockCount(tap: Tap): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong(); // block size in bytes; not needed to read
  }
  if (n > tap.buf.length - tap.pos) {
    throw new CorruptBlockError(
      `block count ${n} exceeds the ${Math.max(0, tap.buf.length - tap.pos)} bytes left`,
    );
  }
  return n;
}

function readArray(this: ArrayInternals, tap: Tap): unknown[] {
  const items = this.itemsType;
  const val: unknown[] = [];
  let n: number;
  while ((n = readBlockCount(tap))) {
    while (n--) {
      val.push(items._read(tap));
    }
  }
  return val;
}

function skipArray(this: ArrayInternals, tap: Tap): void {
  const items = this.itemsType;
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      const len = tap.readLong();
      if (len < 0) {
        invalidate(tap);
        return;
      }
      tap.pos += len;
    } else {
      if (n > tap.buf.length - tap.pos) {
        throw new CorruptBlockError(`block count ${n} exceeds the bytes left`);
      }
      while (n--) {
        items._skip(tap);
      }
    }
  }
}

function readMap(this: MapInternals, tap: Tap): Record<string, unknown> {
  const values = this.valuesType;
  const val: Record<string, unknown> = {};
  let n: number;
  while ((n = readBlockCount(tap))) {
    while (n--) {
      const key = tap.readString();
      const value = values._read(tap);
      if (key === '__proto__') {
        // A plain assignment would replace the object's prototype instead of adding an entry.
        Object.defineProperty(val, key, { value, enumerable: true, writable: true, configurable: true });
      } else {
        val[key] = value;
      }
    }
  }
  return val;
}

function skipMap(this: MapInternals, tap: Tap): void {
  const values = this.valuesType;
  let n: number;
  while ((n = tap.readLong())) {
    if (n < 0) {
      const len = tap.readLong();
      if (len < 0) {
        invalidate(tap);
        return;
      }
      tap.pos += len;
    } else {
      if (n > tap.buf.length - tap.pos) {
        throw new CorruptBlockError(`block count ${n} exceeds the bytes left`);
      }
      while (n--) {
        tap.skipString();
        values._skip(tap);
      }
    }
  }
}

/** Every type reachable from `root` (each named type once). */
export function collectTypes(root: Type): Type[] {
  const seen = new Set<Type>();
  const stack: Type[] = [root];
  while (stack.length > 0) {
    const t = stack.pop() as Type;
    if (seen.has(t)) {
      continue;
    }
    seen.add(t);
    const internals = t as unknown as TypeInternals;
    if (internals.itemsType) stack.push(internals.itemsType);
    if (internals.valuesType) stack.push(internals.valuesType);
    if (internals.underlyingType) stack.push(internals.underlyingType);
    if (internals.types) stack.push(...internals.types);
    if (internals.fields) stack.push(...internals.fields.map((f) => f.type));
  }
  return [...seen];
}

type TypeConstructor = new (schema: unknown, opts: unknown) => Type;

// avsc freezes its type objects, so the guarded readers live on subclasses, created through
// avsc's `typeHook` option instead of being patched onto instances.
class HardenedArrayType extends (types.ArrayType as unknown as TypeConstructor) {}
class HardenedMapType extends (types.MapType as unknown as TypeConstructor) {}
Object.assign(HardenedArrayType.prototype, { _read: readArray, _skip: skipArray });
Object.assign(HardenedMapType.prototype, { _read: readMap, _skip: skipMap });

/** avsc `typeHook` that builds every array and map type with the guarded readers. */
export function hardeningTypeHook(schema: unknown, opts: unknown): Type | undefined {
  if (schema !== null && typeof schema === 'object' && !Array.isArray(schema)) {
    const kind = (schema as { type?: unknown }).type;
    if (kind === 'array') return new HardenedArrayType(schema, opts);
    if (kind === 'map') return new HardenedMapType(schema, opts);
  }
  return undefined;
}

/** Whether every array and map type of `root` has the guarded readers (asserted by tests). */
export function isHardened(root: Type): boolean {
  return collectTypes(root).every((t) => {
    const typeName = (t as unknown as TypeInternals).typeName;
    if (typeName === 'array') return t instanceof HardenedArrayType;
    if (typeName === 'map') return t instanceof HardenedMapType;
    return true;
  });
}

/**
 * Fewest bytes a value of `t` can take in Avro binary. Arrays and maps must have entries of at
 * least one byte for the block-count check above to be sound.
 */
export function minEncodedSize(t: Type, visiting: Set<Type> = new Set()): number {
  const internals = t as unknown as TypeInternals & { size?: number };
  const name = internals.typeName;
  if (name === 'null') return 0;
  if (name === 'float') return 4;
  if (name === 'double') return 8;
  if (name === 'fixed') return internals.size ?? 0;
  if (name.startsWith('logical') && internals.underlyingType)
    return minEncodedSize(internals.underlyingType, visiting);
  if (name === 'record' || name === 'error') {
    if (visiting.has(t)) return 0;
    visiting.add(t);
    const size = (internals.fields ?? []).reduce((sum, f) => sum + minEncodedSize(f.type, visiting), 0);
    visiting.delete(t);
    return size;
  }
  // boolean, int, long, bytes, string, enum, array, map and unions all take at least one byte.
  return 1;
}
