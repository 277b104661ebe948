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
