import { createClient, ClickHouseClient } from '@clickhouse/client';
import { randomUUID } from 'node:crypto';
import { InsertThread } from './insert-thread';
import { ident, quoteString } from './sql';

export interface ClickHouseSettings {
  url: string;
  username?: string;
  password?: string;
  database: string;
  requestTimeoutMs?: number;
}

/**
 * A thin façade over the official client: queries as JSON rows, inserts as JSONEachRow (or
 * pre-encoded RowBinary), and
 * nothing the 18.16 server would reject (no query parameters, no unknown settings).
 */
export class ClickHouseStore {
  readonly client: ClickHouseClient;
  readonly database: string;
  /** RowBinary inserts (large bodies) go through their own thread: see insert-thread.ts. */
  private readonly inserts: InsertThread;

  constructor(readonly settings: ClickHouseSettings) {
    this.database = ident(settings.database);
    const c = connection(settings);
    this.client = createClient({
      url: c.url,
      username: c.username,
      password: c.password,
      database: this.database,
      request_timeout: c.timeoutMs,
      max_open_connections: 10,
      // Servers before 23.11 close idle keep-alive sockets after 3 s. Under load the event loop can
      // stall past the client's 2.5 s idle TTL, and reusing such a socket fails the insert with
      // EPIPE (seen in bench:aggregate): drop stale sockets before each request instead.
      keep_alive: { idle_socket_ttl: 2500, eagerly_destroy_stale_sockets: true },
      clickhouse_settings: {},
    });
    this.inserts = new InsertThread({ ...c, database: this.database });
  }

  /** Creates the database (through a client without a default database, which may not exist yet). */
  static async ensureDatabase(settings: ClickHouseSettings): Promise<void> {
    const c = connection(settings);
    const admin = createClient({ url: c.url, username: c.username, password: c.password, request_timeout: c.timeoutMs });
    try {
      await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${ident(settings.database)}` });
    } finally {
      await admin.close();
    }
  }

  async ping(): Promise<boolean> {
    try {
      const r = await this.client.ping();
      return r.success;
    } catch {
      return false;
    }
  }

  async command(query: string): Promise<void> {
    await this.client.command({ query });
  }

  async query<T>(query: string): Promise<T[]> {
    const queryId = randomUUID();
    const rs = await this.client.query({ query, format: 'JSONEachRow', query_id: queryId });
    return rs.json<T>();
  }

  async insert<T extends object>(table: string, rows: readonly T[]): Promise<void> {
    if (rows.length === 0) return;
    await onFreshSocketOnReset(() =>
      this.client.insert({
        table: ident(table),
        values: rows,
        format: 'JSONEachRow',
        clickhouse_settings: { input_format_skip_unknown_fields: 1 },
      }),
    );
  }

  /**
   * Inserts rows already encoded as RowBinary (see row-binary.ts) for `columns`, in that order:
   * one buffer, or several sent one after another as one body. They are copied before this
   * returns its promise (insert-thread.ts): the caller may reuse them at once.
   */
  async insertRowBinary(table: string, columns: readonly string[], body: Buffer | readonly Buffer[]): Promise<void> {
    const parts = Buffer.isBuffer(body) ? [body] : body.filter((b) => b.length > 0);
    if (parts.length === 0 || parts[0].length === 0) return;
    await this.inserts.insert(`INSERT INTO ${ident(table)} (${columns.map(ident).join(', ')}) FORMAT RowBinary`, parts);
  }

  async tableExists(table: string): Promise<boolean> {
    const rows = await this.query<{ c: string }>(
      `SELECT count() AS c FROM system.tables WHERE database = ${quoteString(this.database)} AND name = ${quoteString(ident(table))}`,
    );
    return Number(rows[0]?.c ?? 0) > 0;
  }

  async close(): Promise<void> {
    await this.inserts.close();
    await this.client.close();
  }
}

/** The settings' server and credentials, defaults filled in (every client of the store uses the same). */
function connection(settings: ClickHouseSettings) {
  return {
    url: settings.url,
    username: settings.username ?? 'default',
    password: settings.password ?? '',
    timeoutMs: settings.requestTimeoutMs ?? 60000,
  };
}

/** Socket errors of a keep-alive connection the server had already closed. */
const RESET_CODES = new Set(['EPIPE', 'ECONNRESET']);

/**
 * Runs an insert again, once, when it failed because its keep-alive socket was already closed by
 * the server (EPIPE/ECONNRESET) — the client then opens a fresh one. The client drops sockets idle
 * for longer than its TTL, but it measures idleness from when this process read the previous
 * answer: a busy event loop reads it late, and the server (keep_alive_timeout 3 s before 23.11)
 * closes the socket earlier than the client thinks. Seen in bench:aggregate on the first insert
 * after start-up. A reset after the server had stored the rows stores them twice, as a redelivered
 * Kafka batch would: the tables are de-duplicated on read (ReplacingMergeTree, FINAL) where that
 * matters.
 */
export async function onFreshSocketOnReset<T>(insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !RESET_CODES.has(code)) throw err;
    return insert();
  }
}
