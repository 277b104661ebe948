#!/usr/bin/env node
// Generates libs/contracts/src/generated/types.ts (TypeScript types for every message) from the
// .avsc files in schemas/, so the schemas stay the one source of truth for message shapes.
//
//   node scripts/gen-contract-types.js          write the file
//   node scripts/gen-contract-types.js --check  exit 1 if the file is not up to date (a unit test runs this)
//
// Mapping: records -> interfaces named by their short Avro name; [null, X] -> X | null; long, int,
// double, float -> number (avsc decodes long as a JS number and rejects unsafe integers); bytes,
// fixed -> Buffer; map<X> -> Record<string, X>; array<X> -> X[]; enum -> string literal union.
// Every record R also gets R + 'Input': the shape `encode` accepts, where fields with a schema
// default may be left out (avsc writes the default).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SCHEMAS_DIR = path.join(ROOT, 'schemas');
const OUT_FILE = path.join(ROOT, 'libs', 'contracts', 'src', 'generated', 'types.ts');

const PRIMITIVES = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

function fail(message) {
  process.stderr.write(`gen-contract-types: ${message}\n`);
  process.exit(1);
}

function fullName(name, namespace) {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

function shortName(full) {
  return full.slice(full.lastIndexOf('.') + 1);
}

/** Collects every named type of one schema file: full name -> { schema, namespace }. */
function collectNamed(schema, namespace, file, out) {
  if (Array.isArray(schema)) {
    for (const branch of schema) collectNamed(branch, namespace, file, out);
    return;
  }
  if (schema === null || typeof schema !== 'object') return;
  const { type } = schema;
  if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed') {
    const full = fullName(schema.name, schema.namespace || namespace);
    const ns = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : '';
    out.push({ full, ns, schema, file });
    if (type === 'record' || type === 'error') {
      for (const field of schema.fields) collectNamed(field.type, ns, file, out);
    }
  } else if (type === 'array') {
    collectNamed(schema.items, namespace, file, out);
  } else if (type === 'map') {
    collectNamed(schema.values, namespace, file, out);
  } else if (typeof type === 'object') {
    collectNamed(type, namespace, file, out);
  }
}

function docComment(doc, indent) {
  if (!doc) return '';
  const text = String(doc).replace(/\*\//g, '*\\/');
  return `${indent}/** ${text} */\n`;
}

function generate() {
  const files = fs
    .readdirSync(SCHEMAS_DIR)
    .filter((f) => f.endsWith('.avsc'))
    .sort();
  if (files.length === 0) fail(`no .avsc files in ${SCHEMAS_DIR}`);

  const messages = [];
  const named = new Map(); // full name -> { ns, schema, file }
  for (const file of files) {
    const schema = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, file), 'utf8'));
    const messageName = file.slice(0, -'.avsc'.length);
    if (schema.type !== 'record' || schema.name !== messageName) {
      fail(`${file} must define a record named ${messageName}`);
    }
    messages.push(messageName);
    const found = [];
    collectNamed(schema, schema.namespace || '', file, found);
    for (const entry of found) {
      const known = named.get(entry.full);
      if (known) {
        // Each file inlines the named types it uses (self-contained for other languages); the
        // copies must agree or the generated TypeScript type would be wrong for one of them.
        if (JSON.stringify(known.schema) !== JSON.stringify(entry.schema)) {
          fail(`${entry.full} is defined differently in ${known.file} and ${entry.file}`);
        }
        continue;
      }
      for (const other of named.values()) {
        if (shortName(other.full) === shortName(entry.full)) {
          fail(`${other.full} and ${entry.full} would both become TypeScript type ${shortName(entry.full)}`);
        }
      }
      named.set(entry.full, entry);
    }
  }

  const resolve = (name, ns) => {
    const entry = named.get(fullName(name, ns)) || named.get(name);
    if (!entry) fail(`unknown type ${name} (namespace ${ns})`);
    return entry;
  };

  // Does the Input form of a type differ from its decoded form? (a default somewhere inside)
  const inputDiffers = new Map();
  const typeNeedsInput = (t, ns, visiting) => {
    if (Array.isArray(t)) return t.some((b) => typeNeedsInput(b, ns, visiting));
    if (typeof t === 'string') return PRIMITIVES[t] ? false : recordNeedsInput(resolve(t, ns), visiting);
    if (t.type === 'array') return typeNeedsInput(t.items, ns, visiting);
    if (t.type === 'map') return typeNeedsInput(t.values, ns, visiting);
    if (t.type === 'record' || t.type === 'error')
      return recordNeedsInput(resolve(t.name, t.namespace || ns), visiting);
    if (typeof t.type === 'string' && PRIMITIVES[t.type]) return false;
    return false;
  };
  const recordNeedsInput = (entry, visiting = new Set()) => {
    if (entry.schema.type !== 'record' && entry.schema.type !== 'error') return false;
    if (inputDiffers.has(entry.full)) return inputDiffers.get(entry.full);
    if (visiting.has(entry.full)) return false;
    visiting.add(entry.full);
    const result = entry.schema.fields.some(
      (f) => f.default !== undefined || typeNeedsInput(f.type, entry.ns, visiting),
    );
    visiting.delete(entry.full);
    inputDiffers.set(entry.full, result);
    return result;
  };

  const tsType = (t, ns, input) => {
    if (Array.isArray(t)) {
      // `X | null` reads better than the Avro order `[null, X]`.
      const branches = t.map((b) => tsType(b, ns, input));
      return [...branches.filter((b) => b !== 'null'), ...branches.filter((b) => b === 'null')].join(' | ');
    }
    if (typeof t === 'string') {
      if (PRIMITIVES[t]) return PRIMITIVES[t];
      const entry = resolve(t, ns);
      return namedRef(entry, input);
    }
    switch (t.type) {
      case 'array': {
        const items = tsType(t.items, ns, input);
        return Array.isArray(t.items) ? `Array<${items}>` : `${items}[]`;
      }
      case 'map':
        return `Record<string, ${tsType(t.values, ns, input)}>`;
      case 'record':
      case 'error':
      case 'enum':
      case 'fixed':
        return namedRef(resolve(t.name, t.namespace || ns), input);
      default:
        if (typeof t.type === 'string' && PRIMITIVES[t.type]) return PRIMITIVES[t.type];
        return tsType(t.type, ns, input);
    }
  };
  const namedRef = (entry, input) => {
    const name = shortName(entry.full);
    if (entry.schema.type === 'enum') return entry.schema.symbols.map((s) => `'${s}'`).join(' | ');
    if (entry.schema.type === 'fixed') return 'Buffer';
    return input && recordNeedsInput(entry) ? `${name}Input` : name;
  };

  let out = '';
  out += '// GENERATED by scripts/gen-contract-types.js from schemas/*.avsc. Do not edit by hand:\n';
  out += '// change the .avsc file and run `node scripts/gen-contract-types.js`.\n\n';
  const records = [...named.values()].filter((e) => e.schema.type === 'record' || e.schema.type === 'error');
  for (const entry of records) {
    const name = shortName(entry.full);
    out += docComment(entry.schema.doc, '');
    out += `export interface ${name} {\n`;
    for (const field of entry.schema.fields) {
      out += docComment(field.doc, '  ');
      out += `  ${field.name}: ${tsType(field.type, entry.ns, false)};\n`;
    }
    out += '}\n\n';
    out += `/** ${name} as \`encode\` accepts it: fields with a schema default may be left out. */\n`;
    if (recordNeedsInput(entry)) {
      out += `export interface ${name}Input {\n`;
      for (const field of entry.schema.fields) {
        const optional = field.default !== undefined ? '?' : '';
        out += `  ${field.name}${optional}: ${tsType(field.type, entry.ns, true)};\n`;
      }
      out += '}\n\n';
    } else {
      out += `export type ${name}Input = ${name};\n\n`;
    }
  }
  out += '/** Decoded type of every message, by message (schema file) name. */\n';
  out += 'export interface MessageTypes {\n';
  for (const m of messages) out += `  ${m}: ${m};\n`;
  out += '}\n\n';
  out += '/** What `encode` accepts for every message, by message name. */\n';
  out += 'export interface MessageInputTypes {\n';
  for (const m of messages) out += `  ${m}: ${m}Input;\n`;
  out += '}\n\n';
  out += '/** Name of a message contract (a file `schemas/<name>.avsc`). */\n';
  out += 'export type MessageName = keyof MessageTypes;\n\n';
  out += '/** Every message name, sorted. */\n';
  out += `export const MESSAGE_NAMES: readonly MessageName[] = [${messages.map((m) => `'${m}'`).join(', ')}];\n`;
  return out;
}

async function format(source) {
  let prettier;
  try {
    prettier = require('prettier');
  } catch {
    return source; // prettier is a dev dependency; without it the raw output is still valid TypeScript
  }
  const options = (await prettier.resolveConfig(OUT_FILE)) || {};
  return prettier.format(source, { ...options, filepath: OUT_FILE });
}

async function main() {
  const source = await format(generate());
  const relative = path.relative(ROOT, OUT_FILE);
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(OUT_FILE) ? fs.readFileSync(OUT_FILE, 'utf8') : '';
    if (current !== source) {
      fail(`${relative} is out of date with schemas/*.avsc; run: node scripts/gen-contract-types.js`);
    }
    process.stdout.write(`${relative} is up to date\n`);
    return;
  }
  fs.mkdirSync(path.dirname(OUT_FILE), { recursive: true });
  fs.writeFileSync(OUT_FILE, source);
  process.stdout.write(`wrote ${relative}\n`);
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
