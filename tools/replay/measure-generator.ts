import { parseArgs } from 'node:util';
import { generateEvents } from '@app/datasets';

/**
 * Generation-only speed of the built-in generator (no encoding, no Kafka):
 * `node scripts/run.js tools/replay/measure-generator --users 10000 --days 7 [--runs 3]`.
 * Prints events, seconds and events/s per run and the median.
 */
const { values } = parseArgs({ options: { users: { type: 'string' }, days: { type: 'string' }, seed: { type: 'string' }, runs: { type: 'string' } } });
const users = Number(values.users ?? 10000);
const days = Number(values.days ?? 7);
const seed = Number(values.seed ?? 1);
const runs = Number(values.runs ?? 3);
const rates: number[] = [];
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  let n = 0;
  for (const e of generateEvents({ seed, users, days })) if (e.event_id) n++;
  const s = (performance.now() - t0) / 1000;
  rates.push(n / s);
  console.log(`run ${r + 1}: ${n} events in ${s.toFixed(2)} s = ${Math.round(n / s)} events/s (rss ${Math.round(process.memoryUsage().rss / 1e6)} MB)`);
}
rates.sort((a, b) => a - b);
console.log(`median: ${Math.round(rates[Math.floor(rates.length / 2)])} events/s (users=${users}, days=${days}, seed=${seed})`);
