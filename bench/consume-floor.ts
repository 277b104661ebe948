/**
 * `npm run bench:consume-floor`: what the Kafka side of the aggregator costs on its own — the
 * floor under bench:aggregate's figures. bench:aggregate's events (300k of 100k users) are
 * produced to a fresh topic, then consumed in this process with our BatchConsumer (16 MiB fetches,
 * 6 partitions at once, pending batches, as the aggregator does), and
 *   consume:  nothing else is done with them;
 *   produce:  each batch produces one 140-byte message per event (as the aggregator produces one
 *             UserFeatures per touched user) and counts as done once Kafka acknowledged them.
 * Prints, per mode, events/s (first batch → last event done) and this process's CPU per event
 * (process.cpuUsage: all threads). BENCH_FLOOR_EVENTS (300000), BENCH_FLOOR_USERS (100000),
 * BENCH_FLOOR_RUNS (3). Nothing is written to reports/: it is a reference point, not a target.
 */
import { ALL_TOPIC_SPECS, Codecs, Topics } from '@app/contracts';
import { KafkaBus, OutgoingMessage } from '@app/kafka';
import { createLogger } from '@app/observability';
import { testNamespace } from '@app/testing';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { aggregateEvent } from './lib/aggregate-workload';
import { median } from './lib/report';

const EVENTS = Number(process.env.BENCH_FLOOR_EVENTS ?? 300_000);
const USERS = Number(process.env.BENCH_FLOOR_USERS ?? 100_000);
const RUNS = Number(process.env.BENCH_FLOOR_RUNS ?? 3);
const log = (m: string) => console.error(`[bench:consume-floor] ${m}`);

async function run(
  mode: 'consume' | 'produce',
  r: number,
): Promise<{ eventsPerS: number; cpuUsPerEvent: number }> {
  const ns = testNamespace(`floor${r}${mode[0]}`);
  const bus = new KafkaBus({
    brokers: ns.brokers,
    clientId: 'bench-floor',
    topicPrefix: ns.topicPrefix,
    logger: createLogger('bench', 'warn'),
  });
  const admin: Admin = new Kafka({
    clientId: 'bench-floor',
    brokers: ns.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await bus.ensureTopics(ALL_TOPIC_SPECS);
    const producer = await bus.producer();
    const perUser = Math.max(1, Math.floor(EVENTS / USERS));
    const total = perUser * USERS;
    const t0 = Date.UTC(2026, 9, 1);
    let batch: OutgoingMessage[] = [];
    for (let i = 0; i < perUser; i++) {
      for (let u = 0; u < USERS; u++) {
        const e = aggregateEvent(ns.id, u, i, t0 + i * 60_000 + u, t0 + i * 60_000 + u + 500);
        batch.push({ key: e.user_id, value: Codecs.ClickEvent.encode(e) });
        if (batch.length === 5000) {
          await producer.send(bus.topic(Topics.ClickstreamEvents), batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) await producer.send(bus.topic(Topics.ClickstreamEvents), batch);

    const out = bus.topic(Topics.UserFeatures);
    const value = Buffer.alloc(140, 7);
    let done = 0;
    let first = 0;
    let cpu0: NodeJS.CpuUsage | null = null;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const count = (n: number) => {
      done += n;
      if (done >= total) finish();
    };
    const consumer = bus.consumer({
      groupId: 'floor',
      topics: [Topics.ClickstreamEvents],
      concurrency: 6,
      maxBytesPerPartition: 16 * 1024 * 1024,
      maxPendingBatches: 2,
      handler: async (messages) => {
        if (first === 0) {
          first = Date.now();
          cpu0 = process.cpuUsage();
        }
        if (mode === 'consume') {
          count(messages.length);
          return;
        }
        const outgoing = messages.map((m) => ({ key: m.key, value }));
        const durable = producer.send(out, outgoing).then(() => count(messages.length));
        return { durable };
      },
    });
    await consumer.start();
    await finished;
    const seconds = (Date.now() - first) / 1000;
    const cpu = process.cpuUsage(cpu0 ?? undefined);
    await consumer.disconnect();
    return { eventsPerS: total / seconds, cpuUsPerEvent: (cpu.user + cpu.system) / total };
  } finally {
    await bus.disconnect();
    await admin
      .deleteTopics({ topics: ALL_TOPIC_SPECS.map((s) => `${ns.topicPrefix}${s.name}`) })
      .catch(() => undefined);
    await admin.disconnect();
  }
}

async function main() {
  for (const mode of ['consume', 'produce'] as const) {
    const runs = [];
    for (let r = 1; r <= RUNS; r++) {
      const x = await run(mode, r);
      log(
        `${mode} run ${r}: ${Math.round(x.eventsPerS)} events/s, ${x.cpuUsPerEvent.toFixed(1)} µs CPU per event`,
      );
      runs.push(x);
    }
    console.log(
      `${mode}: ${Math.round(median(runs.map((x) => x.eventsPerS)))} events/s, ${median(runs.map((x) => x.cpuUsPerEvent)).toFixed(1)} µs CPU per event (medians of ${RUNS})`,
    );
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
