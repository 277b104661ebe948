import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from 'node:worker_threads';
import { waitFor } from '@app/testing';
import { InsertFailed, InsertThread } from './insert-thread';

/** What the fake HTTP interface received: one entry per request. */
interface Received {
  url: URL;
  authorization: string | undefined;
  digest: string;
  length: number;
}

/** A stand-in for ClickHouse's HTTP interface: records each request, answers with `answer`. */
async function fakeServer(answer: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (c: Buffer) => {
      hash.update(c);
      length += c.length;
    });
    req.on('end', () => {
      received.push({ url: new URL(req.url!, 'http://x'), authorization: req.headers.authorization, digest: hash.digest('hex'), length });
      answer(req, res, received.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe(InsertThread.name, () => {
  let server: Awaited<ReturnType<typeof fakeServer>>;
  let thread: InsertThread;
  const make = () => new InsertThread({ url: server.url, database: 'db1', username: 'u', password: 'p w', timeoutMs: 5000 });

  afterEach(async () => {
    await thread?.close();
    await server?.close();
  });

  it('sends the parts one after another as the body, with the query, database and credentials', async () => {
    server = await fakeServer((_req, res) => res.end());
    thread = make();
    // Parts of all kinds: a slice of Buffer's shared pool, an empty one, a view into a larger buffer.
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const parts = [Buffer.from('abc'), Buffer.alloc(0), big.subarray(1000, 2_000_000), Buffer.from('end')];
    await thread.insert('INSERT INTO t (a) FORMAT RowBinary', parts);
    expect(server.received).toHaveLength(1);
    const [r] = server.received;
    expect(r.url.searchParams.get('query')).toBe('INSERT INTO t (a) FORMAT RowBinary');
    expect(r.url.searchParams.get('database')).toBe('db1');
    expect(r.authorization).toBe(`Basic ${Buffer.from('u:p w').toString('base64')}`);
    expect(r.length).toBe(3 + 1_999_000 + 3);
    expect(r.digest).toBe(sha(Buffer.concat(parts)));
    // The caller's buffers are untouched (copied, not transferred away).
    expect(big.length).toBe(3 * 1024 * 1024);
    expect(parts[0].toString()).toBe('abc');
  });

  it('copies the next inserts into the buffer a successful one gave back, sending only their own bytes', async () => {
    server = await fakeServer((_req, res) => res.end());
    thread = make();
    const first = Buffer.alloc(1_500_000, 1);
    const second = Buffer.from('the second body');
    const third = Buffer.alloc(1_000_000, 3);
    for (const body of [first, second, third]) await thread.insert('INSERT', [body]);
    expect(server.received.map((r) => [r.length, r.digest])).toEqual([first, second, third].map((b) => [b.length, sha(b)]));
    expect(thread.bodiesAllocated).toBe(1);
    // A larger body than any spare: a new buffer, and both are kept.
    const fourth = Buffer.alloc(2_500_000, 4);
    await thread.insert('INSERT', [fourth]);
    await thread.insert('INSERT', [second]);
    await thread.insert('INSERT', [fourth]);
    expect(server.received.slice(3).map((r) => r.digest)).toEqual([sha(fourth), sha(second), sha(fourth)]);
    expect(thread.bodiesAllocated).toBe(2);
  });

  it('does not reuse the buffer of a failed insert (a socket may still hold a write of it)', async () => {
    server = await fakeServer((_req, res, n) => {
      res.statusCode = n === 1 ? 500 : 200;
      res.end();
    });
    thread = make();
    await expect(thread.insert('INSERT', [Buffer.from('a')])).rejects.toThrow(InsertFailed);
    await thread.insert('INSERT', [Buffer.from('b')]);
    await thread.insert('INSERT', [Buffer.from('c')]);
    expect(thread.bodiesAllocated).toBe(2);
  });

  it("fails with the server's message and exception code, and goes on with the next insert", async () => {
    server = await fakeServer((_req, res, n) => {
      if (n === 1) {
        res.writeHead(500, { 'X-ClickHouse-Exception-Code': '27' });
        res.end('Code: 27, e.displayText() = DB::Exception: Cannot parse input\n');
      } else res.end();
    });
    thread = make();
    const failed = thread.insert('INSERT INTO t FORMAT RowBinary', [Buffer.from('x')]);
    await expect(failed).rejects.toThrow(InsertFailed);
    await expect(failed).rejects.toMatchObject({ code: '27', message: expect.stringContaining('500: Code: 27, e.displayText() = DB::Exception: Cannot parse input') });
    await thread.insert('INSERT INTO t FORMAT RowBinary', [Buffer.from('y')]);
    expect(server.received).toHaveLength(2);
  });

  it('sends an insert again, once, when the kept-alive socket it went on was closed', async () => {
    // The second request goes on the first one's socket, and the "server" closes it unanswered:
    // what a server that dropped an idle keep-alive connection does.
    server = await fakeServer((req, res, n) => (n === 2 ? req.socket.destroy() : res.end()));
    thread = make();
    await thread.insert('INSERT 1', [Buffer.from('a')]);
    await thread.insert('INSERT 2', [Buffer.from('b')]);
    expect(server.received.map((r) => r.url.searchParams.get('query'))).toEqual(['INSERT 1', 'INSERT 2', 'INSERT 2']);
  });

  it('gives up when the fresh socket is closed too', async () => {
    server = await fakeServer((req, res, n) => (n >= 2 ? req.socket.destroy() : res.end()));
    thread = make();
    await thread.insert('INSERT 1', [Buffer.from('a')]);
    await expect(thread.insert('INSERT 2', [Buffer.from('b')])).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(server.received).toHaveLength(3);
  });

  it('runs inserts side by side and answers each one', async () => {
    const held: ServerResponse[] = [];
    server = await fakeServer((_req, res) => held.push(res));
    thread = make();
    const done: string[] = [];
    const a = thread.insert('INSERT a', [Buffer.from('1')]).then(() => done.push('a'));
    const b = thread.insert('INSERT b', [Buffer.from('2')]).then(() => done.push('b'));
    await waitFor(() => held.length === 2, { intervalMs: 5, what: 'both requests' });
    const second = held.find((_, i) => server.received[i].url.searchParams.get('query') === 'INSERT b')!;
    second.end();
    await b;
    expect(done).toEqual(['b']);
    held.find((r) => r !== second)!.end();
    await a;
    expect(done).toEqual(['b', 'a']);
  });

  it('fails the inserts of a thread that died, and goes on in a new one', async () => {
    const held: ServerResponse[] = [];
    server = await fakeServer((_req, res, n) => (n === 1 ? held.push(res) : res.end()));
    thread = make();
    const lost = thread.insert('INSERT 1', [Buffer.from('a')]);
    await waitFor(() => held.length === 1, { intervalMs: 5, what: 'the request' });
    await (thread as unknown as { worker: Worker }).worker.terminate();
    await expect(lost).rejects.toThrow('ClickHouse insert thread failed: exited with code 1');
    await thread.insert('INSERT 2', [Buffer.from('b')]);
    expect(server.received.map((r) => r.url.searchParams.get('query'))).toEqual(['INSERT 1', 'INSERT 2']);
    held[0].end();
  });

  it('fails when the server is not there, and when closed', async () => {
    server = await fakeServer((_req, res) => res.end());
    const url = server.url;
    await server.close();
    thread = new InsertThread({ url, database: 'd', username: 'u', password: '', timeoutMs: 5000 });
    await expect(thread.insert('INSERT', [Buffer.from('x')])).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await thread.close();
    await expect(thread.insert('INSERT', [Buffer.from('x')])).rejects.toThrow('closed');
    server = await fakeServer((_req, res) => res.end()); // for afterEach
  });

  it('waits for the inserts in flight when closed', async () => {
    const held: ServerResponse[] = [];
    server = await fakeServer((_req, res) => held.push(res));
    thread = make();
    let stored = false;
    const insert = thread.insert('INSERT', [Buffer.from('x')]).then(() => (stored = true));
    await waitFor(() => held.length === 1, { intervalMs: 5, what: 'the request' });
    const closing = thread.close();
    held[0].end();
    await closing;
    expect(stored).toBe(true);
    await insert;
  });
});
