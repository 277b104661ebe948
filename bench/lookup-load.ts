import { Agent, request } from 'node:http';
import { lcg } from './lib/lcg';

/**
 * The lookup API's load generators, in a process of their own: `node dist/bench/lookup-load.js
 * <json options>` prints the result as JSON on stdout. GET /v1/profiles/u<random>, keep-alive.
 *
 *  - `open` (the measurement): an open-loop, constant-rate client in the manner of wrk2 — request
 *    i is due at start + i/rate whatever happened to earlier responses — timed in microseconds from
 *    the moment it is handed to the HTTP agent (so waiting for a free connection, which the
 *    server causes, counts). How late the generator itself handed requests over (its 1 ms timer,
 *    its own event loop on these shared cores) is reported apart as `sendLag`: measured from the
 *    due time instead, p99 read 20-65 ms of which the generator's own lag was up to 10 ms.
 *  - `autocannon`: autocannon's `overallRate` is not a steady rate: each connection sends its
 *    per-second quota back to back at the start of every second and then waits for the next
 *    second (lib/httpClient.js), so "2,000 req/s" arrives as a one-second-periodic burst at the
 *    server's full speed, and its latencies are those of a saturated server. Kept beside the open
 *    loop for comparison.
 *
 * Why a process of its own: a load generator times requests on its own event loop; inside
 * bench:publish that loop belonged to a process holding hundreds of MB of benchmark state, whose
 * GC pauses would be timed as server latency.
 */

export interface LookupLoadOptions {
  kind: 'open' | 'autocannon' | 'vegeta';
  port: number;
  key: string;
  users: number;
  rate: number;
  seconds: number;
  connections: number;
  seed: number;
}

/** The part of the result bench/publish.ts reads (autocannon's shape; latencies in ms). */
export interface LookupLoadResult {
  latency: { p50: number; p90: number; p99: number; p999?: number; average: number; max: number };
  requests: { average: number; total: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Open loop only: how late requests were sent by the generator itself (ms). */
  sendLag?: { p50: number; p99: number };
}

const quantile = (sorted: Float64Array, q: number) =>
  sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];

function openLoop(o: LookupLoadOptions): Promise<LookupLoadResult> {
  const rnd = lcg(o.seed);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const total = Math.round(o.rate * o.seconds);
  const latencies = new Float64Array(total);
  /** How late each request left this process (timer granularity, its own event loop): µs. */
  const sendLag = new Float64Array(total);
  let done = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  const start = process.hrtime.bigint();
  const dueNs = (i: number) => start + BigInt(Math.round((i * 1e9) / o.rate));
  return new Promise((resolve) => {
    const finish = () => {
      agent.destroy();
      const sorted = latencies.slice(0, done).sort();
      const lag = sendLag.slice(0, sent).sort();
      const ms = (us: number) => Math.round(us) / 1000;
      const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      let sum = 0;
      for (const v of sorted) sum += v;
      resolve({
        latency: {
          p50: ms(quantile(sorted, 0.5)),
          p90: ms(quantile(sorted, 0.9)),
          p99: ms(quantile(sorted, 0.99)),
          p999: ms(quantile(sorted, 0.999)),
          average: ms(sum / Math.max(1, done)),
          max: ms(sorted[sorted.length - 1] ?? NaN),
        },
        requests: { average: Math.round((done / elapsed) * 10) / 10, total: done },
        '2xx': ok,
        non2xx,
        errors,
        timeouts: 0,
        sendLag: { p50: ms(quantile(lag, 0.5)), p99: ms(quantile(lag, 0.99)) },
      });
    };
    const sentAt = new Array<bigint>(total);
    const record = (i: number, status: number | null) => {
      latencies[done++] = Number(process.hrtime.bigint() - sentAt[i]) / 1e3;
      if (status === null) errors++;
      else if (status >= 200 && status < 300) ok++;
      else non2xx++;
      if (done === total) finish();
    };
    const send = (i: number) => {
      sentAt[i] = process.hrtime.bigint();
      sendLag[i] = Number(sentAt[i] - dueNs(i)) / 1e3;
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port: o.port,
          path: `/v1/profiles/u${Math.floor(rnd() * o.users)}`,
          headers: { 'x-api-key': o.key },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => record(i, res.statusCode ?? 0));
        },
      );
      req.on('error', () => record(i, null));
      req.end();
    };
    // Every millisecond: send whatever has come due (requests queue in the agent when all
    // connections are busy, and that wait counts, as it would for a real client).
    const tick = () => {
      const now = process.hrtime.bigint();
      while (sent < total && dueNs(sent) <= now) send(sent++);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

function autocannonRun(o: LookupLoadOptions): Promise<LookupLoadResult> {
  const rnd = lcg(o.seed);
  // autocannon ships without types; this is the part we use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon = require('autocannon') as (
    opts: Record<string, unknown>,
    cb: (err: Error | null, res: LookupLoadResult) => void,
  ) => unknown;
  return new Promise((resolve, reject) =>
    autocannon(
      {
        url: `http://127.0.0.1:${o.port}`,
        connections: o.connections,
        overallRate: o.rate,
        duration: o.seconds,
        headers: { 'x-api-key': o.key },
        requests: [
          {
            method: 'GET',
            setupRequest: (req: Record<string, unknown>) => ({
              ...req,
              path: `/v1/profiles/u${Math.floor(rnd() * o.users)}`,
            }),
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    ),
  );
}

if (require.main === module) {
  const o = JSON.parse(process.argv[2] ?? '{}') as LookupLoadOptions;
  (o.kind === 'autocannon' ? autocannonRun(o) : openLoop(o)).then(
    (r) => process.stdout.write(JSON.stringify(r)),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
