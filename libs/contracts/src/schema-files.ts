import * as fs from 'node:fs';
import * as path from 'node:path';

/** Environment variable that points the contracts library at a `schemas/` folder explicitly. */
export const SCHEMAS_DIR_ENV = 'PORTRAIT_SCHEMAS_DIR';

/** Released versions live beside the current schemas, one file per version: `<Name>.v<N>.avsc`. */
const RELEASED_FILE = /^([A-Za-z_][A-Za-z0-9_]*)\.v([1-9][0-9]*)\.avsc$/;

let cachedDir: string | undefined;

/**
 * The repository's `schemas/` folder. The same code runs from source (ts-jest, ts-node) and
 * compiled into `dist/libs/contracts/src/`, so instead of a fixed relative path we walk up from
 * this file to the first folder holding both `schemas/` and `package.json` (the repository root).
 * `PORTRAIT_SCHEMAS_DIR` overrides the search, e.g. for a deployment that ships schemas elsewhere.
 */
export function schemasDir(): string {
  const fromEnv = process.env[SCHEMAS_DIR_ENV];
  if (fromEnv) {
    const dir = path.resolve(fromEnv);
    if (!isDirectory(dir)) {
      throw new Error(`${SCHEMAS_DIR_ENV}=${fromEnv} is not a directory`);
    }
    return dir;
  }
  if (cachedDir === undefined) {
    const found = findSchemasDir(__dirname);
    if (found === null) {
      throw new Error(
        `cannot find the schemas/ folder above ${__dirname} (looked for a folder holding schemas/ and ` +
          `package.json); set ${SCHEMAS_DIR_ENV} to its location`,
      );
    }
    cachedDir = found;
  }
  return cachedDir;
}

/** The `schemas/` folder of the nearest folder at or above `startDir` that also has a package.json. */
export function findSchemasDir(startDir: string): string | null {
  let dir = path.resolve(startDir);
  for (;;) {
    const candidate = path.join(dir, 'schemas');
    if (isDirectory(candidate) && fs.existsSync(path.join(dir, 'package.json'))) {
      return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return null;
    }
    dir = parent;
  }
}

/** Path of the current schema of message `name` (`schemas/<name>.avsc`). */
export function currentSchemaPath(name: string, dir: string = schemasDir()): string {
  return path.join(dir, `${name}.avsc`);
}

/** Names of all messages with a current schema, sorted. */
export function listMessageSchemas(dir: string = schemasDir()): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .map((f) => f.slice(0, -'.avsc'.length))
    .sort();
}

export interface ReleasedSchemaFile {
  /** Message name, e.g. `ClickEvent`. */
  name: string;
  /** Release number N of `<name>.v<N>.avsc`. */
  version: number;
  /** `v<N>`. */
  label: string;
  path: string;
}

/** Released versions of message `name` (or of every message when omitted), oldest first. */
export function listReleasedSchemas(name?: string, dir: string = schemasDir()): ReleasedSchemaFile[] {
  const releasedDir = path.join(dir, 'released');
  if (!isDirectory(releasedDir)) {
    return [];
  }
  const out: ReleasedSchemaFile[] = [];
  for (const file of fs.readdirSync(releasedDir)) {
    const m = RELEASED_FILE.exec(file);
    if (!m || (name !== undefined && m[1] !== name)) {
      continue;
    }
    const version = Number(m[2]);
    out.push({ name: m[1], version, label: `v${version}`, path: path.join(releasedDir, file) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
}

/** Reads and JSON-parses one `.avsc` file, naming the file in the error. */
export function readSchemaFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read schema ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`schema ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
