import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ClickHouseStore } from './clickhouse-store';
import { quoteString } from './sql';

/**
 * Numbered SQL migrations (`NNNN_name.up.sql`, optional `.down.sql`) applied in order and
 * recorded in `schema_migrations`, so applying twice is a no-op and every service can run them at
 * start. Each file holds one statement (18.16 has no multi-statement requests); a file may hold
 * several separated by a line containing only `-- statement`. Statements must be valid on
 * ClickHouse 18.16 and current versions (see docs/clickhouse.md): `CREATE ... IF NOT EXISTS`.
 */
export interface Migration {
  version: number;
  name: string;
  up: string[];
  down: string[];
}

export function findMigrationsDir(start = __dirname): string {
  const env = process.env.PORTRAIT_MIGRATIONS_DIR;
  if (env) return env;
  let dir = start;
  for (let i = 0; i < 8; i++) {
    try {
      readdirSync(join(dir, 'migrations', 'clickhouse'));
      return join(dir, 'migrations', 'clickhouse');
    } catch {
      dir = join(dir, '..');
    }
  }
  throw new Error(`migrations/clickhouse not found above ${start}; set PORTRAIT_MIGRATIONS_DIR`);
}

const splitStatements = (text: string) =>
  text
    .split(/^\s*--\s*statement\s*$/m)
    .map((s) => s.trim().replace(/;\s*$/, ''))
    .filter((s) => s.replace(/--.*$/gm, '').trim().length > 0);

export function loadMigrations(dir = findMigrationsDir()): Migration[] {
  const files = readdirSync(dir).filter((f) => /^\d{4}_[a-z0-9_]+\.up\.sql$/.test(f));
  return files
    .map((f) => {
      const version = Number(f.slice(0, 4));
      const name = f.replace(/\.up\.sql$/, '');
      const downFile = join(dir, `${name}.down.sql`);
      let down: string[] = [];
      try {
        down = splitStatements(readFileSync(downFile, 'utf8'));
      } catch {
        down = [];
      }
      return { version, name, up: splitStatements(readFileSync(join(dir, f), 'utf8')), down };
    })
    .sort((a, b) => a.version - b.version);
}

export async function migrate(
  store: ClickHouseStore,
  logger?: Logger,
  migrations: Migration[] = loadMigrations(),
): Promise<{ applied: string[] }> {
  await ClickHouseStore.ensureDatabase(store.settings);
  await store.command(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime DEFAULT now()) ENGINE = ReplacingMergeTree() ORDER BY version`,
  );
  const done = new Set(
    (await store.query<{ version: number }>('SELECT version FROM schema_migrations FINAL')).map((r) => Number(r.version)),
  );
  const applied: string[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    for (const stmt of m.up) await store.command(stmt);
    await store.command(
      `INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${quoteString(m.name)})`,
    );
    applied.push(m.name);
    logger?.info({ event: 'migration_applied', migration: m.name, database: store.database }, 'migration applied');
  }
  return { applied };
}
