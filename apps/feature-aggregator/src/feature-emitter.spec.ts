import pino from 'pino';
import { Codecs, exampleClickEvent } from '@app/contracts';
import { DEFAULT_FEATURE_OPTIONS, toFeatureEvent, UserState } from '@app/features';
import type { MessageProducer, OutgoingMessage } from '@app/kafka';
import { waitFor } from '@app/testing';
import { FeatureEmitter } from './feature-emitter';

/** A user with one event (a distinct id, so messages differ). */
function user(i: number): UserState {
  const s = new UserState(`user-${i}`, 0);
  s.apply(
    toFeatureEvent(
      exampleClickEvent({
        event_id: `e-${i}`,
        user_id: `user-${i}`,
        ts: 1_790_000_000_000 + i,
        ingested_at: 1_790_000_000_500 + i,
      }),
    ),
  );
  return s;
}

interface Sent {
  messages: OutgoingMessage[];
  /** The values' bytes when they were handed to the producer. */
  copies: Buffer[];
  settle: (err?: Error) => void;
}

/** A producer whose requests settle when the test says. */
function heldProducer() {
  const sent: Sent[] = [];
  const producer = {
    send: (_topic: string, messages: OutgoingMessage[]) =>
      new Promise<void>((resolve, reject) => {
        sent.push({
          messages,
          copies: messages.map((m) => Buffer.from(m.value)),
          settle: (err) => (err ? reject(err) : resolve()),
        });
      }),
  };
  return { sent, producer: producer as unknown as MessageProducer };
}

const settings = {
  intervalMs: 60_000,
  features: DEFAULT_FEATURE_OPTIONS,
  onFailure: async () => undefined,
  onEmitted: () => undefined,
};

describe(FeatureEmitter.name, () => {
  it('encodes one decodable UserFeatures per user', async () => {
    const { sent, producer } = heldProducer();
    const emitter = new FeatureEmitter(producer, 'features', null, settings, pino({ level: 'silent' }));
    const users = [user(1), user(2), user(3)];
    const done = emitter.emit(users);
    const flushed = emitter.flush();
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(1);
    expect(sent[0].messages.map((m) => [m.key, Codecs.UserFeatures.decode(m.value).user_id])).toEqual([
      ['user-1', 'user-1'],
      ['user-2', 'user-2'],
      ['user-3', 'user-3'],
    ]);
    sent[0].settle();
    await Promise.all([done, flushed]);
  });

  it("keeps a send's encoded values intact until all of its requests settled, even after one failed", async () => {
    const { sent, producer } = heldProducer();
    const emitter = new FeatureEmitter(producer, 'features', null, settings, pino({ level: 'silent' }));
    // More than one request's worth (512 KiB of values): two requests, both in flight.
    const many = Array.from({ length: 6000 }, (_, i) => user(i));
    const first = emitter.emit(many);
    const firstFlush = emitter.flush();
    await waitFor(() => sent.reduce((n, r) => n + r.messages.length, 0) === many.length, {
      intervalMs: 1,
      what: 'every message handed over',
    });
    const requests = [...sent];
    expect(requests.length).toBeGreaterThanOrEqual(2);
    requests[0].settle(new Error('broker said no')); // one request fails while the others are in flight
    const second = emitter.emit([user(100_000), user(100_001)]);
    const secondFlush = emitter.flush();
    await new Promise((r) => setImmediate(r));
    // The second send waits for them: it would otherwise reuse the buffer their values are in.
    expect(sent.length).toBe(requests.length);
    for (const r of requests) expect(r.messages.every((m, i) => m.value.equals(r.copies[i]))).toBe(true);
    for (const r of requests.slice(1)) r.settle();
    await expect(first).rejects.toThrow('broker said no');
    await expect(firstFlush).resolves.toBeUndefined();
    await new Promise((r) => setImmediate(r));
    expect(sent.length).toBe(requests.length + 1);
    sent[requests.length].settle();
    await Promise.all([second, secondFlush]);
    expect(sent[requests.length].messages.map((m) => Codecs.UserFeatures.decode(m.value).user_id)).toEqual(['user-100000', 'user-100001']);
  });

  it('computes and hands over a large send a slice at a time, giving the event loop a turn between slices', async () => {
    const { sent, producer } = heldProducer();
    const emitter = new FeatureEmitter(
      producer,
      'features',
      null,
      { ...settings, sliceUsers: 2 },
      pino({ level: 'silent' }),
    );
    const done = emitter.emit([user(1), user(2), user(3), user(4), user(5)]);
    const flushed = emitter.flush();
    for (let i = 0; i < 10; i++) await Promise.resolve(); // the send's start (promise steps), no macrotask yet
    // The first slice is on its way before the rest is computed.
    expect(sent.map((r) => r.messages.map((m) => m.key))).toEqual([['user-1', 'user-2']]);
    await waitFor(() => sent.length === 3, { intervalMs: 1, what: 'three slices' });
    expect(sent.map((r) => r.messages.map((m) => m.key))).toEqual([
      ['user-1', 'user-2'],
      ['user-3', 'user-4'],
      ['user-5'],
    ]);
    let resolved = false;
    void done.then(() => (resolved = true));
    sent[0].settle();
    sent[2].settle();
    await new Promise((r) => setImmediate(r));
    expect(resolved).toBe(false); // a slice is not acknowledged yet
    sent[1].settle();
    await Promise.all([done, flushed]);
  });
});
