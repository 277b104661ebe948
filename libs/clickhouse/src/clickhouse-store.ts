import { createClient, ClickHouseClient } from '@clickhouse/client';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
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

  constructor(readonly settings: ClickHouseSettings) {
    this.database = ident(settings.database);
    this.client = createClient({
      url: settings.url,
      username: settings.username ?? 'default',
      password: settings.password ?? '',
      database: this.database,
      request_timeout: settings.requestTimeoutMs ?? 60000,
      max_open_connections: 10,
      // Servers before 23.11 close idle keep-alive sockets after 3 s. Under load the event loop can
      // stall past the client's 2.5 s idle TTL, and reusing such a socket fails the insert with
      // EPIPE (seen in bench:aggregate): drop stale sockets before each request instead.
      keep_alive: { idle_socket_ttl: 2500, eagerly_destroy_stale_sockets: true },
      clickhouse_settings: {},
    });
  }

  /** Creates the database (through a client without a default database, which may not exist yet). */
  static async ensureDatabase(settings: ClickHouseSettings): Promise<void> {
    const admin = createClient({
      url: settings.url,
      username: settings.username ?? 'default',
      password: settings.password ?? '',
      request_timeout: settings.requestTimeoutMs ?? 60000,
    });
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
    await this.client.insert({
      table: ident(table),
      values: rows,
      format: 'JSONEachRow',
      clickhouse_settings: { input_format_skip_unknown_fields: 1 },
    });
  }

  /** Inserts rows already encoded as RowBinary (see row-binary.ts) for `columns`, in that order. */
  async insertRowBinary(table: string, columns: readonly string[], body: Buffer): Promise<void> {
    if (body.length === 0) return;
    const r = await this.client.exec({
      query: `INSERT INTO ${ident(table)} (${columns.map(ident).join(', ')}) FORMAT RowBinary`,
      values: Readable.from([body]),
    });
    // The answer is empty; reading it to the end frees the socket for the next request.
    for await (const chunk of r.stream) void chunk;
  }

  async tableExists(table: string): Promise<boolean> {
    const rows = await this.query<{ c: string }>(
      `SELECT count() AS c FROM system.tables WHERE database = ${quoteString(this.database)} AND name = ${quoteString(ident(table))}`,
    );
    return Number(rows[0]?.c ?? 0) > 0;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
