import { splitRequests } from './message-producer';

describe(splitRequests.name, () => {
  const msg = (n: number) => ({ value: Buffer.alloc(n) });

  it('keeps small batches in one request, topics together', () => {
    const r = splitRequests([{ topic: 'a', messages: [msg(10), msg(10)] }, { topic: 'b', messages: [msg(10)] }], 10000);
    expect(r).toHaveLength(1);
    expect(r[0].map((t) => [t.topic, t.messages.length])).toEqual([['a', 2], ['b', 1]]);
  });

  it('splits at the byte bound, in order, and skips empty topics', () => {
    const r = splitRequests([{ topic: 'a', messages: [msg(400), msg(400), msg(400)] }, { topic: 'b', messages: [] }], 1000);
    expect(r.map((req) => req.map((t) => t.messages.length))).toEqual([[2], [1]]);
  });

  it('sends a single oversized message alone', () => {
    const r = splitRequests([{ topic: 'a', messages: [msg(10), msg(5000), msg(10)] }], 1000);
    expect(r.map((req) => req[0].messages.length)).toEqual([1, 1, 1]);
  });
});
