import { onFreshSocketOnReset } from './clickhouse-store';

const socketError = (code: string) => Object.assign(new Error(`write ${code}`), { code });

describe(onFreshSocketOnReset.name, () => {
  it('runs an insert whose keep-alive socket was closed once more', async () => {
    for (const code of ['EPIPE', 'ECONNRESET']) {
      let calls = 0;
      const result = await onFreshSocketOnReset(async () => {
        calls++;
        if (calls === 1) throw socketError(code);
        return 'stored';
      });
      expect(result).toBe('stored');
      expect(calls).toBe(2);
    }
  });

  it('gives up after the second attempt', async () => {
    let calls = 0;
    const insert = onFreshSocketOnReset(async () => {
      calls++;
      throw socketError('EPIPE');
    });
    await expect(insert).rejects.toThrow('write EPIPE');
    expect(calls).toBe(2);
  });

  it('does not repeat other failures (the server answered, or is not there)', async () => {
    for (const err of [
      Object.assign(new Error('Code: 27. Cannot parse input'), { code: '27' }),
      socketError('ECONNREFUSED'),
      new Error('timeout'),
    ]) {
      let calls = 0;
      await expect(
        onFreshSocketOnReset(async () => {
          calls++;
          throw err;
        }),
      ).rejects.toBe(err);
      expect(calls).toBe(1);
    }
  });
});
