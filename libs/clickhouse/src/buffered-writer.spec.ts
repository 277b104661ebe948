import { BufferedWriter } from './buffered-writer';
import type { ClickHouseStore } from './clickhouse-store';
import { RowBinaryChunk } from './row-binary';

/** A store that records RowBinary inserts and fails them while `failing` is set. */
function fakeStore() {
  const inserts: Buffer[][] = [];
  const store = {
    failing: false,
    inserts,
    insertRowBinary: jest.fn(
      async (_table: string, _columns: readonly string[], body: Buffer | readonly Buffer[]) => {
        if (store.failing) throw new Error('ClickHouse is down');
        inserts.push(Buffer.isBuffer(body) ? [body] : [...body]);
      },
    ),
  };
  return store;
}

const chunk = (text: string) => {
  const c = { bytes: Buffer.from(text), release: jest.fn() };
  return c satisfies RowBinaryChunk;
};

/** A RowBinary writer over `store` that flushes at `maxRows` (not on time, within a test). */
const rowBinaryWriter = (store: ReturnType<typeof fakeStore>, maxRows: number) =>
  new BufferedWriter<never>(store as unknown as ClickHouseStore, {
    table: 't',
    rowBinaryColumns: ['a'],
    maxRows,
    maxDelayMs: 60_000,
  });

describe('BufferedWriter (RowBinary)', () => {
  it('sends the chunks of one flush as one insert, in order, without joining them, and releases them after it', async () => {
    const store = fakeStore();
    const writer = rowBinaryWriter(store, 3);
    const a = chunk('aa');
    const b = chunk('bbb');
    const first = writer.writeRowBinary(a, 1);
    const second = writer.writeRowBinary(b, 2); // reaches maxRows: flushes
    await Promise.all([first, second]);
    expect(store.inserts).toEqual([[Buffer.from('aa'), Buffer.from('bbb')]]);
    expect(store.inserts[0][0]).toBe(a.bytes);
    expect(a.release).toHaveBeenCalledTimes(1);
    expect(b.release).toHaveBeenCalledTimes(1);
    expect(writer.rowsWritten).toBe(3);
  });

  it("keeps a failed insert's chunks (rejecting its writers) and does not release them", async () => {
    const store = fakeStore();
    store.failing = true;
    const writer = rowBinaryWriter(store, 1);
    const a = chunk('aa');
    await expect(writer.writeRowBinary(a, 1)).rejects.toThrow('ClickHouse is down');
    expect(a.release).not.toHaveBeenCalled();
    store.failing = false;
    const b = chunk('bb');
    await writer.writeRowBinary(b, 1); // the writer goes on after a failure
    expect(store.inserts).toEqual([[Buffer.from('bb')]]);
    expect(b.release).toHaveBeenCalledTimes(1);
  });

  it('takes a plain buffer too, and releases a chunk of no rows at once', async () => {
    const store = fakeStore();
    const writer = rowBinaryWriter(store, 1);
    const empty = chunk('');
    await writer.writeRowBinary(empty, 0);
    expect(empty.release).toHaveBeenCalledTimes(1);
    await writer.writeRowBinary(Buffer.from('x'), 1);
    expect(store.inserts).toEqual([[Buffer.from('x')]]);
  });
});

describe('BufferedWriter idleFlushRows', () => {
  /** A store whose inserts wait until the test lets them finish. */
  function heldStore() {
    const inserts: { rows: string; finish: () => void }[] = [];
    const store = {
      insertRowBinary: (_t: string, _c: readonly string[], body: Buffer | readonly Buffer[]) =>
        new Promise<void>((finish) =>
          inserts.push({
            rows: Buffer.concat(Buffer.isBuffer(body) ? [body] : [...body]).toString(),
            finish,
          }),
        ),
    };
    return { store: store as unknown as ClickHouseStore, inserts };
  }
  const settle = () => new Promise((r) => setImmediate(r));

  it('flushes at once when nothing is in flight and enough rows wait, else buffers until the insert is done', async () => {
    const { store, inserts } = heldStore();
    const onInserted = jest.fn();
    const writer = new BufferedWriter<never>(store, {
      table: 't',
      rowBinaryColumns: ['a'],
      maxRows: 100,
      maxDelayMs: 60_000,
      idleFlushRows: 3,
      onInserted,
    });
    const small = writer.writeRowBinary(chunk('a'), 2); // below idleFlushRows: waits for the timer
    await settle();
    expect(inserts).toHaveLength(0);
    const first = writer.writeRowBinary(chunk('b'), 1); // 3 rows, nothing in flight: at once
    await settle();
    expect(inserts.map((i) => i.rows)).toEqual(['ab']);
    const second = writer.writeRowBinary(chunk('c'), 5); // an insert is in flight: buffered
    const third = writer.writeRowBinary(chunk('d'), 5);
    await settle();
    expect(inserts).toHaveLength(1);
    inserts[0].finish();
    await Promise.all([small, first]);
    await settle();
    // The rows buffered meanwhile went as soon as the insert was done, not at the timer.
    expect(inserts.map((i) => i.rows)).toEqual(['ab', 'cd']);
    inserts[1].finish();
    await Promise.all([second, third]);
    expect(writer.rowsWritten).toBe(13);
    expect(onInserted.mock.calls).toEqual([
      [3, expect.any(Number)],
      [10, expect.any(Number)],
    ]);
  });

  it('leaves a writer without it to its size and time', async () => {
    const { store, inserts } = heldStore();
    const writer = new BufferedWriter<never>(store, {
      table: 't',
      rowBinaryColumns: ['a'],
      maxRows: 100,
      maxDelayMs: 60_000,
    });
    void writer.writeRowBinary(chunk('a'), 50);
    await settle();
    expect(inserts).toHaveLength(0);
    const flushed = writer.flush();
    await settle();
    inserts[0].finish();
    await flushed;
  });

  it('does not start an insert on its timer while one is in flight: those rows go as soon as it is done', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const { store, inserts } = heldStore();
      const writer = new BufferedWriter<never>(store, {
        table: 't',
        rowBinaryColumns: ['a'],
        maxRows: 100,
        maxDelayMs: 50,
        idleFlushRows: 10,
      });
      const a = writer.writeRowBinary(chunk('a'), 1);
      jest.advanceTimersByTime(50); // nothing in flight: the timer flushes
      await settle();
      expect(inserts.map((i) => i.rows)).toEqual(['a']);
      const b = writer.writeRowBinary(chunk('b'), 1);
      jest.advanceTimersByTime(500);
      await settle();
      expect(inserts).toHaveLength(1); // waits for the insert in flight
      const c = writer.writeRowBinary(chunk('c'), 1);
      inserts[0].finish();
      await a;
      await settle();
      // At once (below idleFlushRows), with the rows written since the timer fired.
      expect(inserts.map((i) => i.rows)).toEqual(['a', 'bc']);
      inserts[1].finish();
      await Promise.all([b, c]);
    } finally {
      jest.useRealTimers();
    }
  });
});
