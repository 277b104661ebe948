import type { ClickHouseStore } from './clickhouse-store';

export interface BufferedWriterOptions {
  table: string;
  /** Flush when this many rows are buffered. */
  maxRows?: number;
  /** Flush at most this long after the first buffered row. */
  maxDelayMs?: number;
}

/**
 * Buffers rows for one table and inserts them in large batches, flushing on size or time.
 * `write` returns a promise that settles when *those* rows are durable in ClickHouse (or the
 * insert failed), so a Kafka consumer can commit its offsets only after its rows are stored.
 * A failed flush rejects every waiting writer; nothing is dropped silently — the caller retries.
 */
export class BufferedWriter<T extends object> {
  private rows: T[] = [];
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly maxRows: number;
  private readonly maxDelayMs: number;
  rowsWritten = 0;
  flushes = 0;

  constructor(
    private readonly store: ClickHouseStore,
    private readonly options: BufferedWriterOptions,
  ) {
    this.maxRows = options.maxRows ?? 50000;
    this.maxDelayMs = options.maxDelayMs ?? 200;
  }

  get pending(): number {
    return this.rows.length;
  }

  write(rows: readonly T[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    for (const r of rows) this.rows.push(r);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.rows.length >= this.maxRows) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
    return done;
  }

  /** Inserts everything buffered so far; resolves when it (and any earlier flush) is done. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.rows.length === 0) return this.flushing;
    const rows = this.rows;
    const waiters = this.waiters;
    this.rows = [];
    this.waiters = [];
    // Serialise inserts so rows land in write order and we never overload the server.
    this.flushing = this.flushing
      .catch(() => undefined)
      .then(() => this.store.insert(this.options.table, rows))
      .then(
        () => {
          this.rowsWritten += rows.length;
          this.flushes++;
          for (const w of waiters) w.resolve();
        },
        (e: unknown) => {
          for (const w of waiters) w.reject(e);
        },
      );
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
