import pino from 'pino';
import { BatchConsumer, KafkaBus } from '@app/kafka';
import { testNamespace, waitFor } from '@app/testing';

/**
 * The batch consumer against the real broker: offsets are committed only after the handler
 * resolved, a failing handler is retried with back-off, pending batches are committed in order
 * and a failed one rewinds its partition, and a consumer whose session expired mid-batch (kafkajs
 * gives up on such a commit) rejoins by itself and finishes the work.
 */
describe(BatchConsumer.name, () => {
  const ns = testNamespace('bc');
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const bus = new KafkaBus({ brokers: ns.brokers, clientId: 'bc-test', topicPrefix: ns.topicPrefix, groupPrefix: ns.groupPrefix, logger });

  afterAll(async () => {
    await bus.disconnect();
  });

  it('retries a failing batch and commits only after it succeeds', async () => {
    await bus.ensureTopics([{ name: 'retry', partitions: 1 }]);
    const producer = await bus.producer();
    await producer.send(bus.topic('retry'), ['a', 'b', 'c'].map((v) => ({ value: Buffer.from(v) })));
    let calls = 0;
    const seen: string[] = [];
    const consumer = bus.consumer({
      groupId: 'retry',
      topics: ['retry'],
      retryInitialMs: 50,
      handler: async (messages) => {
        calls++;
        if (calls < 3) throw new Error('transient');
        seen.push(...messages.map((m) => m.value!.toString()));
      },
    });
    await consumer.start();
    await waitFor(() => seen.length === 3, { what: 'three messages processed', timeoutMs: 60000 });
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(calls).toBeGreaterThanOrEqual(3);
    await waitFor(
      async () => {
        const offsets = await bus.withAdmin((a) => a.fetchOffsets({ groupId: `${ns.groupPrefix}retry`, topics: [bus.topic('retry')] }));
        return offsets[0]?.partitions[0]?.offset === '3';
      },
      { what: 'offset 3 committed' },
    );
    await consumer.disconnect();
  });

  it('hands pending batches over in order, commits none past a failed one and redelivers from it', async () => {
    await bus.ensureTopics([{ name: 'pending', partitions: 1 }]);
    const producer = await bus.producer();
    // Three record batches; a fetch of at most 100 bytes returns one at a time.
    for (const values of [['a1', 'a2'], ['b1'], ['c1']]) await producer.send(bus.topic('pending'), values.map((v) => ({ value: Buffer.from(v) })));
    const calls: { values: string[]; resolve: () => void; reject: (e: Error) => void }[] = [];
    const consumer = bus.consumer({
      groupId: 'pending',
      topics: ['pending'],
      maxBytesPerPartition: 100,
      maxPendingBatches: 2,
      retryInitialMs: 50,
      handler: async (messages) => {
        let resolve!: () => void;
        let reject!: (e: Error) => void;
        const durable = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
        calls.push({ values: messages.map((m) => m.value!.toString()), resolve, reject });
        if (calls.length > 4) resolve(); // the redelivered A and B wait for the test, then everything succeeds
        return { durable };
      },
    });
    const committed = async () => {
      const offsets = await bus.withAdmin((a) => a.fetchOffsets({ groupId: `${ns.groupPrefix}pending`, topics: [bus.topic('pending')] }));
      return offsets[0]?.partitions[0]?.offset;
    };
    await consumer.start();
    // Two batches pending at once (the third waits for room), then B durable and A failed.
    await waitFor(() => calls.length === 2, { what: 'two batches handed over', timeoutMs: 60000 });
    expect(calls.map((c) => c.values)).toEqual([['a1', 'a2'], ['b1']]);
    calls[1].resolve();
    calls[0].reject(new Error('insert failed'));
    await waitFor(() => calls.length === 4, { what: 'the partition redelivered from the failed batch', timeoutMs: 60000 });
    expect(calls.slice(2).map((c) => c.values)).toEqual([['a1', 'a2'], ['b1']]);
    expect(await committed()).toBe('-1'); // B was durable, but A before it was not
    calls[3].resolve();
    calls[2].resolve();
    await waitFor(async () => (await committed()) === '4', { what: 'every batch committed after the retry', timeoutMs: 60000 });
    expect(calls.slice(2).flatMap((c) => c.values)).toEqual(['a1', 'a2', 'b1', 'c1']);
    expect(consumer.health().ok).toBe(true);
    await consumer.disconnect();
  });

  it('commits a pending batch before it leaves the group on disconnect', async () => {
    await bus.ensureTopics([{ name: 'drain', partitions: 1 }]);
    const producer = await bus.producer();
    await producer.send(bus.topic('drain'), ['x', 'y'].map((v) => ({ value: Buffer.from(v) })));
    let makeDurable: (() => void) | null = null;
    const consumer = bus.consumer({
      groupId: 'drain',
      topics: ['drain'],
      handler: async () => ({ durable: new Promise<void>((r) => (makeDurable = r)) }),
    });
    await consumer.start();
    await waitFor(() => makeDurable !== null, { what: 'the batch handed over', timeoutMs: 60000 });
    const leaving = consumer.disconnect();
    makeDurable!(); // its effects become durable only once the disconnect has begun
    await leaving;
    const offsets = await bus.withAdmin((a) => a.fetchOffsets({ groupId: `${ns.groupPrefix}drain`, topics: [bus.topic('drain')] }));
    expect(offsets[0]?.partitions[0]?.offset).toBe('2');
  });

  it('rejoins after its session expired during a slow batch and redelivers that batch', async () => {
    await bus.ensureTopics([{ name: 'slow', partitions: 1 }]);
    const producer = await bus.producer();
    await producer.send(bus.topic('slow'), [{ value: Buffer.from('x') }]);
    const seen: string[] = [];
    let first = true;
    const consumer = bus.consumer({
      groupId: 'slow',
      topics: ['slow'],
      sessionTimeoutMs: 6000,
      retryInitialMs: 200,
      handler: async (messages) => {
        if (first) {
          first = false;
          // Longer than the session timeout, without heartbeats: the group evicts us and the
          // commit that follows is refused.
          await new Promise((r) => setTimeout(r, 9000));
        }
        seen.push(...messages.map((m) => m.value!.toString()));
      },
    });
    await consumer.start();
    await waitFor(
      async () => {
        const offsets = await bus.withAdmin((a) => a.fetchOffsets({ groupId: `${ns.groupPrefix}slow`, topics: [bus.topic('slow')] }));
        return offsets[0]?.partitions[0]?.offset === '1';
      },
      { what: 'offset committed after the rejoin', timeoutMs: 90000, intervalMs: 500 },
    );
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(consumer.health().ok).toBe(true);
    await consumer.disconnect();
  });
});
