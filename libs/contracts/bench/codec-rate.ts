// Encode+decode rate of the contract codecs per second of CPU time on one core (node's main thread).
//   npm run build && node dist/libs/contracts/bench/codec-rate.js [iterations]
// (or `node scripts/run.js libs/contracts/bench/codec-rate`). Prints one JSON line per case with
// the best of 3 runs, and a JSON.stringify+JSON.parse round trip of the same value as a yardstick
// that makes numbers from busy or slower machines comparable.
import {
  AvroCodec,
  Codecs,
  ClickEventInput,
  exampleClickEvent,
  exampleProfileUpdated,
  exampleUserFeatures,
} from '@app/contracts';

interface Case {
  name: string;
  codec: AvroCodec<unknown, unknown>;
  value: unknown;
}

/** A ClickEvent as the dataset importers produce it: the fields JData/Taobao rows have. */
const typicalClickEvent: ClickEventInput = {
  event_id: 'taobao:UserBehavior.csv:1234567',
  user_id: '1000123',
  event_type: 'view',
  ts: 1_511_544_070_000,
  item_id: '2268318',
  category: '2520377',
  ingested_at: 1_700_000_000_123,
  source: 'replay:taobao',
  backfill: true,
};

const cases: Case[] = [
  {
    name: 'ClickEvent (every field set)',
    codec: Codecs.ClickEvent,
    value: exampleClickEvent(),
  },
  {
    name: 'ClickEvent (dataset row)',
    codec: Codecs.ClickEvent,
    value: typicalClickEvent,
  },
  {
    name: 'UserFeatures',
    codec: Codecs.UserFeatures,
    value: exampleUserFeatures(),
  },
  {
    name: 'ProfileUpdated',
    codec: Codecs.ProfileUpdated,
    value: exampleProfileUpdated(),
  },
];

/**
 * Best of 3 runs, in calls per second of this process's CPU time (user + system): on a busy
 * shared machine wall-clock rates mostly measure the other processes.
 */
function ratePerCpuSecond(iterations: number, fn: () => void): number {
  for (let i = 0; i < Math.min(iterations, 20_000); i++) fn();
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const started = process.cpuUsage();
    for (let i = 0; i < iterations; i++) fn();
    const used = process.cpuUsage(started);
    best = Math.max(best, iterations / ((used.user + used.system) / 1e6));
  }
  return Math.round(best);
}

const iterations = Number(process.argv[2] ?? 200_000);
for (const c of cases) {
  const bytes = c.codec.encode(c.value).length;
  const encodes = ratePerCpuSecond(iterations, () => {
    c.codec.encode(c.value);
  });
  const roundTrips = ratePerCpuSecond(iterations, () => {
    c.codec.decode(c.codec.encode(c.value));
  });
  const json = ratePerCpuSecond(iterations, () => {
    JSON.parse(JSON.stringify(c.value));
  });
  process.stdout.write(
    `${JSON.stringify({ case: c.name, bytes, encodes_per_cpu_s: encodes, round_trips_per_cpu_s: roundTrips, json_round_trips_per_cpu_s: json })}\n`,
  );
}
