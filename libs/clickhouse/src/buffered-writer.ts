import type { ClickHouseStore } from './clickhouse-store';
import type { RowBinaryChunk } from './row-binary';

export interface BufferedWriterOptions {
  table: string;
  /**
   * The writer takes rows already encoded as RowBinary for these columns (`writeRowBinary`)
   * instead of row objects inserted as JSONEachRow (`write`).
   */
  rowBinaryColumns?: readonly string[];
  /** Flush when this many rows are buffered. */
  maxRows?: number;
  /** Flush at most this long after the first buffered row. */
  maxDelayMs?: number;
  /**
   * Flush at once when no insert is in flight and at least this many rows are buffered (default:
   * never before maxRows or maxDelayMs). For a writer fed in large steps by a busy event loop,
   * whose timer fires only at the next step: ClickHouse then stores one step's rows while the
   * next is prepared, instead of idling until the buffer is full and storing the rest after the
   * last step. With it, the timer does not start an insert while one is in flight either: those
   * rows go when it is done, together with the ones written meanwhile (fewer, larger inserts
   * while ClickHouse is busy; each insert is a part it must merge later).
   */
  idleFlushRows?: number;
  /** After each successful insert: its rows and how long it took (from its start, not its turn). */
  onInserted?: (rows: number, ms: number) => void;
}

/**
 * Buffers rows for one table and inserts them in large batches, flushing on size or time.
 * `write` returns a promise that settles when *those* rows are durable in ClickHouse (or the
 * insert failed), so a Kafka consumer can commit its offsets only after its rows are stored.
 * A failed flush rejects every waiting writer; nothing is dropped silently — the caller retries.
 */
export class BufferedWriter<T extends object> {
  private rows: T[] = [];
  /** RowBinary mode: encoded rows waiting for the flush, and how many rows they hold. */
  private chunks: RowBinaryChunk[] = [];
  private chunkRows = 0;
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** Inserts started and not yet settled. */
  private inFlight = 0;
  /** The timer fired while an insert was in flight (idleFlushRows): flush once it is done. */
  private due = false;
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
    return this.rows.length + this.chunkRows;
  }

  write(rows: readonly T[]): Promise<void> {
    if (this.options.rowBinaryColumns) throw new Error(`the ${this.options.table} writer takes RowBinary rows`);
    if (rows.length === 0) return Promise.resolve();
    for (const r of rows) this.rows.push(r);
    return this.waitForFlush();
  }

  /**
   * `rows` rows encoded as RowBinary for `rowBinaryColumns` (see RowBinaryEncoder). A chunk from
   * `RowBinaryEncoder.take` is released once its insert succeeded.
   */
  writeRowBinary(body: RowBinaryChunk | Buffer, rows: number): Promise<void> {
    if (!this.options.rowBinaryColumns) throw new Error(`the ${this.options.table} writer takes row objects`);
    if (rows === 0) {
      if (!Buffer.isBuffer(body)) body.release();
      return Promise.resolve();
    }
    this.chunks.push(Buffer.isBuffer(body) ? { bytes: body, release: () => undefined } : body);
    this.chunkRows += rows;
    return this.waitForFlush();
  }

  private waitForFlush(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.pending >= this.maxRows || this.idleAndFull()) void this.flush();
    else this.timer ??= setTimeout(() => this.onTimer(), this.maxDelayMs);
    return done;
  }

  private onTimer(): void {
    this.timer = null;
    if (this.options.idleFlushRows !== undefined && this.inFlight > 0) this.due = true;
    else void this.flush();
  }

  private idleAndFull(): boolean {
    const rows = this.options.idleFlushRows;
    return rows !== undefined && this.inFlight === 0 && this.pending >= rows;
  }

  /** Inserts everything buffered so far; resolves when it (and any earlier flush) is done. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.due = false;
    const count = this.pending;
    if (count === 0) return this.flushing;
    const insert = this.takePending();
    const waiters = this.waiters;
    this.waiters = [];
    // Serialise inserts so rows land in write order and we never overload the server.
    this.inFlight++;
    let startedAt = 0;
    this.flushing = this.flushing
      .catch(() => undefined)
      .then(() => {
        startedAt = performance.now();
        return insert();
      })
      .finally(() => {
        this.inFlight--;
        // Rows buffered while this insert ran go at once if they are enough (see idleFlushRows).
        if (this.inFlight === 0 && (this.due || this.idleAndFull())) void this.flush();
      })
      .then(
        () => {
          this.rowsWritten += count;
          this.flushes++;
          this.options.onInserted?.(count, performance.now() - startedAt);
          for (const w of waiters) w.resolve();
        },
        (e: unknown) => {
          for (const w of waiters) w.reject(e);
        },
      );
    return this.flushing;
  }

  /** Empties the buffer into the insert that will store its rows. */
  private takePending(): () => Promise<void> {
    const { table, rowBinaryColumns } = this.options;
    if (rowBinaryColumns) {
      // The chunks are sent one after another as the body, not concatenated (a copy of every row).
      // Their memory goes back to the encoder only after a successful insert: after a failure the
      // request may not have let go of it.
      const chunks = this.chunks;
      this.chunks = [];
      this.chunkRows = 0;
      return async () => {
        await this.store.insertRowBinary(table, rowBinaryColumns, chunks.map((c) => c.bytes));
        for (const c of chunks) c.release();
      };
    }
    const rows = this.rows;
    this.rows = [];
    return () => this.store.insert(table, rows);
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
