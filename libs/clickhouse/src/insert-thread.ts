import { Worker } from 'node:worker_threads';

export interface InsertThreadOptions {
  /** The server's HTTP interface, e.g. http://127.0.0.1:8123. */
  url: string;
  database: string;
  username: string;
  password: string;
  timeoutMs: number;
}

/** An insert the server refused or that never reached it; `code` is the socket's or ClickHouse's error code when known. */
export class InsertFailed extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'InsertFailed';
  }
}

/** Main thread → worker: one insert, its body the first `length` bytes of a transferred buffer. */
interface InsertRequest {
  id: number;
  query: string;
  body: ArrayBuffer;
  length: number;
}

/** Worker → main thread: the insert's outcome and, after a success, its body's buffer back for the next one. */
interface InsertReply {
  id: number;
  error?: { message: string; code?: string };
  body?: ArrayBuffer;
}

/** Body buffers kept for later inserts, at most (the aggregator has one insert in flight at a time). */
const SPARE_BODIES = 2;
/** Body buffers are allocated in multiples of this, so that a slightly larger insert fits a spare. */
const BODY_GRANULE = 1 << 20;

/**
 * Sends inserts to ClickHouse's HTTP interface from a worker thread.
 *
 * Why a thread: a large insert body (tens of megabytes of RowBinary) leaves this process only as
 * fast as the event loop comes back to write the next piece of it into the socket. A consumer
 * that processes its fetch synchronously, for a second between turns, therefore fed ClickHouse a
 * few megabytes per second: bench:aggregate's per-thread CPU timeline showed ClickHouse nearly
 * idle while the aggregator worked (a core unused) and doing the inserts after it, in the tail
 * before the last commit. The worker's event loop does nothing else, so the body streams while
 * the main thread works on the next events.
 *
 * The body is copied once into a buffer of its own, which is transferred (not copied again) to
 * the worker; the caller's buffers are free again when `insert` returns. After a successful insert
 * the worker transfers that buffer back, and the next insert that fits is copied into it: a fresh
 * buffer of tens of megabytes per insert cost the aggregator's main thread ~5 % of its time
 * (cpu-profile of bench:aggregate), mostly the kernel mapping and zeroing new pages. After a
 * failure it is not reused: the socket may still hold a write of it.
 */
export class InsertThread {
  private worker: Worker | null = null;
  /** Inserts posted and not answered, with the thread they went to. */
  private readonly pending = new Map<number, { worker: Worker; resolve: () => void; reject: (e: Error) => void }>();
  private readonly inFlight = new Set<Promise<void>>();
  private nextId = 1;
  private closed = false;
  /** Body buffers given back by the worker, for the next inserts. */
  private readonly spares: ArrayBuffer[] = [];
  /** Body buffers allocated so far (the other inserts reused a spare); read by the spec. */
  bodiesAllocated = 0;

  constructor(private readonly options: InsertThreadOptions) {}

  /** Runs `query` (an INSERT ... FORMAT ...) with `parts` sent one after another as its body. */
  insert(query: string, parts: readonly Uint8Array[]): Promise<void> {
    if (this.closed) return Promise.reject(new InsertFailed('the ClickHouse insert thread is closed'));
    let size = 0;
    for (const p of parts) size += p.length;
    const buffer = this.bodyBuffer(size);
    const body = new Uint8Array(buffer, 0, size);
    let at = 0;
    for (const p of parts) {
      body.set(p, at);
      at += p.length;
    }
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      if (this.pending.size === 1) worker.ref();
      const message: InsertRequest = { id, query, body: buffer, length: size };
      worker.postMessage(message, [buffer]);
    });
    this.inFlight.add(done);
    const forget = () => void this.inFlight.delete(done);
    done.then(forget, forget);
    return done;
  }

  /** The smallest spare that holds `size` bytes, else a new buffer (never a slice of Buffer's shared pool, which cannot be transferred). */
  private bodyBuffer(size: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.spares.length; i++) {
      const b = this.spares[i].byteLength;
      if (b >= size && (best < 0 || b < this.spares[best].byteLength)) best = i;
    }
    if (best >= 0) return this.spares.splice(best, 1)[0];
    this.bodiesAllocated++;
    return new ArrayBuffer(Math.max(BODY_GRANULE, Math.ceil(size / BODY_GRANULE) * BODY_GRANULE));
  }

  /** Keeps a body buffer the worker gave back; the smallest goes when there are too many. */
  private keep(buffer: ArrayBuffer): void {
    this.spares.push(buffer);
    if (this.spares.length > SPARE_BODIES) {
      let smallest = 0;
      for (let i = 1; i < this.spares.length; i++) if (this.spares[i].byteLength < this.spares[smallest].byteLength) smallest = i;
      this.spares.splice(smallest, 1);
    }
  }

  /** Waits for the inserts in flight, then stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.inFlight);
    this.spares.length = 0;
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(`(${insertThreadMain.toString()})()`, { eval: true, workerData: this.options });
    worker.unref();
    worker.on('message', (reply: InsertReply) => {
      if (reply.body) this.keep(reply.body);
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.error) p.reject(new InsertFailed(reply.error.message, reply.error.code));
      else p.resolve();
    });
    // A thread that dies takes its inserts with it: they fail (the caller retries) and the next
    // insert starts a new thread. Only its own: its 'exit' may come after a new one took over.
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const [id, p] of this.pending) {
        if (p.worker !== worker) continue;
        this.pending.delete(id);
        p.reject(new InsertFailed(`ClickHouse insert thread failed: ${err.message}`));
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

/**
 * The worker's code, run from its source text (`eval`): no file to find next to the compiled
 * module, the same under ts-jest and in dist/. Self-contained: it may use nothing from outside
 * (coverage counters neither, hence the hint below).
 */
/* istanbul ignore next */
function insertThreadMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { parentPort, workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const http = require('node:http') as typeof import('node:http');
  const https = require('node:https') as typeof import('node:https');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const options = workerData as InsertThreadOptions;
  const base = new URL(options.url);
  const client = base.protocol === 'https:' ? https : http;
  // Keep-alive: Node closes an idle socket by the server's Keep-Alive timeout header (3 s before
  // ClickHouse 23.11), and a socket the server closed anyway is retried once below.
  const agent = new client.Agent({ keepAlive: true, maxSockets: 4 });
  const auth = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;

  // Resolves once the response has ended and the body has been handed to the socket in full
  // (end's callback): its buffer then goes back to the main thread, which overwrites it.
  const post = (query: string, body: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => {
      let written = false;
      let answered = false;
      const success = () => (written && answered ? resolve() : undefined);
      const url = new URL(base);
      url.searchParams.set('database', options.database);
      url.searchParams.set('query', query);
      const req = client.request(url, {
        method: 'POST',
        agent,
        headers: { Authorization: auth, 'Content-Type': 'application/octet-stream', 'Content-Length': body.length },
      });
      req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error(`insert timed out after ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err: Error & { code?: string }) => reject(Object.assign(err, { reused: req.reusedSocket })));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode === 200) {
            answered = true;
            return success();
          }
          const text = Buffer.concat(chunks).toString('utf8').trim();
          const code = res.headers['x-clickhouse-exception-code'];
          reject(Object.assign(new Error(`ClickHouse answered ${res.statusCode}: ${text}`), { code: typeof code === 'string' ? code : undefined }));
        });
      });
      req.end(body, () => {
        written = true;
        success();
      });
    });

  parentPort!.on('message', (m: InsertRequest) => {
    const body = new Uint8Array(m.body, 0, m.length);
    post(m.query, body)
      .catch((err: Error & { code?: string; reused?: boolean }) => {
        // A kept-alive socket the server had closed: once more on a new one.
        if (err.reused && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) return post(m.query, body);
        throw err;
      })
      .then(
        () => parentPort!.postMessage({ id: m.id, body: m.body } satisfies InsertReply, [m.body]),
        (err: Error & { code?: string }) =>
          parentPort!.postMessage({ id: m.id, error: { message: err.message, code: err.code } } satisfies InsertReply),
      );
  });
}
