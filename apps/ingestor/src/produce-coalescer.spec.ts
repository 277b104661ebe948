import type { OutgoingMessage } from '@app/kafka';
import { BatchSender, ProduceCoalescer, ProducerBusyError, ProducerFailedError } from './produce-coalescer';

const msgs = (n: number): OutgoingMessage[] => Array.from({ length: n }, (_, i) => ({ value: Buffer.from(String(i)) }));

class FakeSender implements BatchSender {
  calls: { topic: string; count: number }[][] = [];
  pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  sendMany(batches: readonly { topic: string; messages: readonly OutgoingMessage[] }[]): Promise<void> {
    this.calls.push(batches.map((b) => ({ topic: b.topic, count: b.messages.length })));
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
}

describe(ProduceCoalescer.name, () => {
  const opts = { maxInFlightEvents: 100, lingerMs: 5, maxBatchMessages: 50, timeoutMs: 1000 };

  it('coalesces concurrent submissions into one send and resolves each after the ack', async () => {
    const sender = new FakeSender();
    const sut = new ProduceCoalescer(() => sender, opts);
    const a = sut.submit([{ topic: 'e', messages: msgs(10) }, { topic: 'd', messages: msgs(1) }]);
    const b = sut.submit([{ topic: 'e', messages: msgs(5) }]);
    await new Promise((r) => setTimeout(r, 20));
    expect(sender.calls).toEqual([[{ topic: 'e', count: 15 }, { topic: 'd', count: 1 }]]);
    expect(sut.outstanding).toBe(16);
    sender.pending[0].resolve();
    await Promise.all([a, b]);
    expect(sut.outstanding).toBe(0);
  });

  it('refuses at once when the in-flight budget is full (bounded, never queued)', async () => {
    const sender = new FakeSender();
    const sut = new ProduceCoalescer(() => sender, opts);
    const a = sut.submit([{ topic: 'e', messages: msgs(45) }]);
    const b = sut.submit([{ topic: 'e', messages: msgs(45) }]);
    await expect(sut.submit([{ topic: 'e', messages: msgs(20) }])).rejects.toBeInstanceOf(ProducerBusyError);
    await new Promise((r) => setTimeout(r, 20));
    for (const p of sender.pending) p.resolve();
    await Promise.all([a, b]);
    await new Promise((r) => setTimeout(r, 0));
    expect(sut.outstanding).toBe(0);
  });

  it('fails every submission of a failed send, and frees the budget', async () => {
    const sender = new FakeSender();
    const sut = new ProduceCoalescer(() => sender, opts);
    const a = sut.submit([{ topic: 'e', messages: msgs(3) }]);
    await new Promise((r) => setTimeout(r, 20));
    sender.pending[0].reject(new Error('broker down'));
    await expect(a).rejects.toBeInstanceOf(ProducerFailedError);
    expect(sut.outstanding).toBe(0);
  });

  it('fails when there is no connected producer, and times out a silent broker', async () => {
    const none = new ProduceCoalescer(() => null, opts);
    await expect(none.submit([{ topic: 'e', messages: msgs(1) }])).rejects.toThrow(/not connected/);
    expect(none.outstanding).toBe(0);
    const sender = new FakeSender();
    const slow = new ProduceCoalescer(() => sender, { ...opts, timeoutMs: 30 });
    await expect(slow.submit([{ topic: 'e', messages: msgs(2) }])).rejects.toThrow(/did not acknowledge/);
    expect(slow.outstanding).toBe(2); // still counted until the broker answers
    sender.pending[0].resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(slow.outstanding).toBe(0);
  });

  it('keeps at most maxConcurrentSends in flight and sends what piled up together (group commit)', async () => {
    const sender = new FakeSender();
    const sut = new ProduceCoalescer(() => sender, { ...opts, maxConcurrentSends: 1, lingerMs: 1 });
    const a = sut.submit([{ topic: 'e', messages: msgs(1) }]);
    await new Promise((r) => setTimeout(r, 10));
    const more = [2, 3, 4].map((n) => sut.submit([{ topic: 'e', messages: msgs(n) }]));
    await new Promise((r) => setTimeout(r, 10));
    expect(sender.calls).toHaveLength(1); // the others wait for the slot
    sender.pending[0].resolve();
    await a;
    await new Promise((r) => setTimeout(r, 0));
    expect(sender.calls[1]).toEqual([{ topic: 'e', count: 9 }]);
    sender.pending[1].resolve();
    await Promise.all(more);
    expect(sut.outstanding).toBe(0);
  });
});

describe('chunkByBytes', () => {
  it('splits requests so no produce request exceeds the byte budget, keeping order', async () => {
    const { chunkByBytes } = await import('./chunked-send');
    const big = (i: number): OutgoingMessage => ({ key: 'u', value: Buffer.alloc(1000, i) });
    const requests = chunkByBytes([{ topic: 'e', messages: Array.from({ length: 25 }, (_, i) => big(i)) }, { topic: 'd', messages: [big(99)] }], 10_700);
    expect(requests.map((r) => r.map((b) => `${b.topic}:${b.messages.length}`))).toEqual([['e:10'], ['e:10'], ['e:5', 'd:1']]);
    expect(requests.flatMap((r) => r.flatMap((b) => b.messages.map((m) => m.value[0]))).slice(0, 25)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });
});
