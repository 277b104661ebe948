import * as fs from 'node:fs';
import * as path from 'node:path';
import { Type } from 'avsc';
import { AvroCodec, canonicalForm, parseSchema } from './avro-codec';
import { collectTypes, isHardened, minEncodedSize } from './avro-guards';
import { codecFor } from './codecs';
import { MESSAGE_NAMES } from './generated/types';
import { listMessageSchemas, listReleasedSchemas, readSchemaFile, schemasDir } from './schema-files';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface NamedRecord {
  fullName: string;
  schema: JsonObject;
}

const fieldName = (field: JsonObject): string => (typeof field.name === 'string' ? field.name : '?');
const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every named record in a schema, with full names resolved as the Avro spec says. */
function namedRecords(schema: Json, namespace = ''): NamedRecord[] {
  const out: NamedRecord[] = [];
  const visit = (s: Json, ns: string): void => {
    if (Array.isArray(s)) {
      s.forEach((b) => visit(b, ns));
      return;
    }
    if (!isObject(s)) return;
    if (s.type === 'record') {
      const name = typeof s.name === 'string' ? s.name : '';
      const full = name.includes('.')
        ? name
        : [typeof s.namespace === 'string' ? s.namespace : ns, name].filter(Boolean).join('.');
      out.push({ fullName: full, schema: s });
      const inner = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : '';
      for (const field of s.fields as JsonObject[]) visit(field.type, inner);
    } else if (s.type === 'array') {
      visit(s.items, ns);
    } else if (s.type === 'map') {
      visit(s.values, ns);
    } else if (isObject(s.type) || Array.isArray(s.type)) {
      visit(s.type, ns);
    }
  };
  visit(schema, namespace);
  return out;
}

/** Every JSON object anywhere in a schema (to look for forbidden attributes). */
function allObjects(s: Json): JsonObject[] {
  if (Array.isArray(s)) return s.flatMap(allObjects);
  if (!isObject(s)) return [];
  return [s, ...Object.values(s).flatMap(allObjects)];
}

/**
 * Fields of the reader that a writer lacks must have a default, or old messages cannot be read.
 * Checked per record present (by full name) in both. Returns the offending `Record.field` paths.
 */
function fieldsAddedWithoutDefault(reader: Json, writer: Json): string[] {
  const writerRecords = new Map(namedRecords(writer).map((r) => [r.fullName, r.schema]));
  const problems: string[] = [];
  for (const { fullName, schema } of namedRecords(reader)) {
    const old = writerRecords.get(fullName);
    if (!old) continue;
    const oldNames = new Set((old.fields as JsonObject[]).map((f) => f.name));
    for (const field of schema.fields as JsonObject[]) {
      const aliases = Array.isArray(field.aliases) ? field.aliases : [];
      const known = [field.name, ...aliases].some((n) => oldNames.has(n));
      if (!known && !('default' in field)) problems.push(`${fullName}.${fieldName(field)}`);
    }
  }
  return problems;
}

const dir = schemasDir();
const current = listMessageSchemas(dir).map((name) => ({
  name,
  schema: readSchemaFile(path.join(dir, `${name}.avsc`)) as Json,
}));
const released = listReleasedSchemas(undefined, dir).map((r) => ({
  ...r,
  schema: readSchemaFile(r.path) as Json,
}));

describe('schemas/*.avsc', () => {
  it('are exactly the messages the generated types know', () => {
    expect(current.map((c) => c.name)).toEqual([...MESSAGE_NAMES]);
  });

  describe.each(current.map((c) => [c.name, c.schema] as const))('%s', (name, schema) => {
    it('parses on its own (self-contained: no references to other files) as record portrait.v1.<file name>', () => {
      const type = parseSchema(schema);
      expect(type.name).toBe(`portrait.v1.${name}`);
      expect(isObject(schema) && schema.namespace).toBe('portrait.v1');
    });

    it('documents every record and every field', () => {
      const undocumented: string[] = [];
      for (const { fullName, schema: record } of namedRecords(schema)) {
        if (typeof record.doc !== 'string' || record.doc.trim() === '') undocumented.push(fullName);
        for (const field of record.fields as JsonObject[]) {
          if (typeof field.doc !== 'string' || field.doc.trim() === '')
            undocumented.push(`${fullName}.${fieldName(field)}`);
        }
      }
      expect(undocumented).toEqual([]);
    });

    it('uses plain types only: no logical types; unions are [null, X] with null first', () => {
      const objects = allObjects(schema);
      expect(objects.filter((o) => 'logicalType' in o)).toEqual([]);
      const unions = objects
        .flatMap((o) => [o.type, o.items, o.values])
        .filter((t): t is Json[] => Array.isArray(t));
      for (const union of unions) {
        expect(union).toHaveLength(2);
        expect(union[0]).toBe('null');
      }
      const optional = objects.filter((o) => Array.isArray(o.type) && 'default' in o);
      for (const field of optional) expect(field.default).toBeNull();
    });

    it('has array and map entries of at least one byte (the corrupt-count guard relies on it)', () => {
      const type = parseSchema(schema);
      expect(isHardened(type)).toBe(true);
      for (const t of collectTypes(type)) {
        const internals = t as unknown as { itemsType?: Type; valuesType?: Type };
        if (internals.itemsType) expect(minEncodedSize(internals.itemsType)).toBeGreaterThan(0);
      }
    });
  });

  it('define a named type identically wherever it is inlined (e.g. Features, Score)', () => {
    const seen = new Map<string, { file: string; json: string }>();
    const conflicts: string[] = [];
    for (const { name, schema } of current) {
      for (const record of namedRecords(schema)) {
        const json = JSON.stringify(record.schema);
        const first = seen.get(record.fullName);
        if (first && first.json !== json) conflicts.push(`${record.fullName}: ${first.file} vs ${name}`);
        if (!first) seen.set(record.fullName, { file: name, json });
      }
    }
    expect(conflicts).toEqual([]);
    expect(seen.has('portrait.v1.Features')).toBe(true);
  });
});

describe('schemas/released (backward compatibility)', () => {
  it('holds a first released version of every message, numbered v1, v2, ... without gaps', () => {
    for (const { name } of current) {
      const versions = released.filter((r) => r.name === name).map((r) => r.version);
      expect(versions.length).toBeGreaterThan(0);
      expect(versions).toEqual(versions.map((_, i) => i + 1));
    }
    // A release only makes sense when the canonical form (and so the fingerprint) changed.
    for (const { name } of current) {
      const forms = released.filter((r) => r.name === name).map((r) => canonicalForm(parseSchema(r.schema)));
      expect(new Set(forms).size).toBe(forms.length);
    }
    const unexpected = fs
      .readdirSync(path.join(dir, 'released'))
      .filter((f) => !released.some((r) => path.basename(r.path) === f));
    expect(unexpected).toEqual([]);
  });

  describe.each(released.map((r) => [`${r.name}.${r.label}`, r] as const))('%s', (_label, r) => {
    it('is readable by the current schema: every field added since has a default', () => {
      const reader = current.find((c) => c.name === r.name);
      expect(reader).toBeDefined();
      expect(fieldsAddedWithoutDefault(reader?.schema ?? null, r.schema)).toEqual([]);
      expect(() => parseSchema(reader?.schema).createResolver(parseSchema(r.schema))).not.toThrow();
    });

    it('writes data that the current codec decodes into valid current values', () => {
      const writer = new AvroCodec<unknown>(r.name, r.schema);
      const codec = codecFor(r.name as (typeof MESSAGE_NAMES)[number]) as unknown as AvroCodec<
        unknown,
        unknown
      >;
      for (let i = 0; i < 25; i++) {
        const value: unknown = writer.type.random();
        const result = codec.tryDecode(writer.encode(value));
        expect(result.ok).toBe(true);
        if (result.ok) {
          expect(codec.type.isValid(result.value)).toBe(true);
          expect(result.writerVersion).toBe(r.label);
        }
      }
    });
  });
});

describe(fieldsAddedWithoutDefault.name, () => {
  const v1 = { type: 'record', name: 'M', namespace: 'portrait.v1', fields: [{ name: 'a', type: 'int' }] };

  it('flags a field added without a default, also inside nested records', () => {
    const nested = (fields: Json[]) => ({
      ...v1,
      fields: [
        { name: 'a', type: 'int' },
        { name: 'n', type: { type: 'record', name: 'N', fields } },
      ],
    });
    expect(
      fieldsAddedWithoutDefault({ ...v1, fields: [...v1.fields, { name: 'b', type: 'int' }] }, v1),
    ).toEqual(['portrait.v1.M.b']);
    expect(
      fieldsAddedWithoutDefault(
        { ...v1, fields: [...v1.fields, { name: 'b', type: 'int', default: 0 }] },
        v1,
      ),
    ).toEqual([]);
    expect(
      fieldsAddedWithoutDefault(
        nested([
          { name: 'x', type: 'int' },
          { name: 'y', type: 'int' },
        ]),
        nested([{ name: 'x', type: 'int' }]),
      ),
    ).toEqual(['portrait.v1.N.y']);
  });
});
