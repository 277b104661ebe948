import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { REPLAY_FORMATS, ReplayArgumentError, ReplayFormat, ReplayOptions } from '@app/datasets';

export const REPLAY_USAGE = `usage: npm run replay -- [options]

  --source <path>          dataset file or folder (or a name under $DATASETS_DIR, default ../shared/data)
  --format <fmt>           canonical | jdata | taobao | generator (default: generator without --source,
                           otherwise guessed from the file names)
  --labels <csv>           labels CSV (user_id,<attr>,...) published on user.attributes.v1;
                           JData_User.csv is recognised: age, sex, user_lv_cd (-1 and sex 2 = unknown)
  --unknown-values=<a,b>   extra label tokens meaning "unknown" (write it with "=": --unknown-values=-1,NA)
  --rate <events/s|max>    rate limit (default max)
  --max <n>                stop after n events
  --to <kafka|http>        kafka (default): raw ClickEvents on clickstream.raw.v1;
                           http: NDJSON POSTs to $INGESTOR_URL (default http://127.0.0.1:3001), key $PORTRAIT_INGEST_KEY
  --batch-size <n>         events per Kafka send / HTTP request
  --json                   print the summary as JSON
 generator:
  --seed <n> (1)  --users <n> (1000)  --days <n> (7)  --start <ISO date|epoch ms|now> (2026-01-01T00:00:00Z;
                  now = the period ends now)
  --bot-fraction <0..1> (0.01)  --events-per-user-day <n> (20)  --label-fraction <0..1> (0.3)
`;

export interface ParsedReplayArgs {
  options: ReplayOptions;
  json: boolean;
  help: boolean;
}

function num(name: string, v: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw new ReplayArgumentError(`--${name} must be ${what} (got ${JSON.stringify(v)})`);
  return n;
}

const int = (lo: number) => (n: number) => Number.isInteger(n) && n >= lo;
const fraction = (n: number) => n >= 0 && n <= 1;

/** Guesses a dataset's format from its file names. */
export function guessFormat(source: string): ReplayFormat | null {
  let names: string[];
  try {
    names = fs.statSync(source).isDirectory() ? fs.readdirSync(source) : [path.basename(source)];
  } catch {
    return null;
  }
  if (names.some((n) => /^JData_Action.*\.csv$/i.test(n))) return 'jdata';
  if (names.some((n) => /\.(ndjson|jsonl)$/i.test(n))) return 'canonical';
  if (names.some((n) => /^UserBehavior.*\.csv$/i.test(n))) return 'taobao';
  return null;
}

/** Command line → replay options; throws ReplayArgumentError with a clear message. */
export function parseReplayArgs(argv: string[], resolveSource: (s: string) => string = (s) => s): ParsedReplayArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        source: { type: 'string' },
        format: { type: 'string' },
        labels: { type: 'string' },
        'unknown-values': { type: 'string' },
        rate: { type: 'string' },
        max: { type: 'string' },
        to: { type: 'string' },
        'batch-size': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        seed: { type: 'string' },
        users: { type: 'string' },
        days: { type: 'string' },
        start: { type: 'string' },
        'bot-fraction': { type: 'string' },
        'events-per-user-day': { type: 'string' },
        'label-fraction': { type: 'string' },
      },
    }));
  } catch (e) {
    throw new ReplayArgumentError((e as Error).message);
  }
  const s = (k: string) => values[k] as string | undefined;
  const source = s('source');
  let format = s('format') as ReplayFormat | undefined;
  if (format !== undefined && !(REPLAY_FORMATS as readonly string[]).includes(format)) {
    throw new ReplayArgumentError(`--format must be one of ${REPLAY_FORMATS.join(', ')} (got ${JSON.stringify(format)})`);
  }
  if (format === undefined) {
    if (source === undefined) format = 'generator';
    else {
      const guessed = guessFormat(resolveSource(source));
      if (!guessed) throw new ReplayArgumentError(`cannot tell the format of ${source}: pass --format canonical|jdata|taobao`);
      format = guessed;
    }
  }
  if (format !== 'generator' && source === undefined) throw new ReplayArgumentError(`--source is required with --format ${format}`);
  const to = s('to') ?? 'kafka';
  if (to !== 'kafka' && to !== 'http') throw new ReplayArgumentError(`--to must be kafka or http (got ${JSON.stringify(to)})`);
  const rateArg = s('rate');
  const rate = rateArg === undefined || rateArg === 'max' ? undefined : num('rate', rateArg, (n) => n > 0, 'a positive number of events/s or "max"');
  let startMs: number | undefined;
  const start = s('start');
  if (start !== undefined) {
    // `now`: the simulated period ends now (ids do not depend on the start, so a rerun still dedups).
    const days = Number(s('days') ?? 7);
    startMs = start === 'now' ? Date.now() - days * 86_400_000 : /^\d+$/.test(start) ? Number(start) : Date.parse(start);
    if (!Number.isFinite(startMs)) throw new ReplayArgumentError(`--start must be an ISO date or epoch ms (got ${JSON.stringify(start)})`);
  }
  const options: ReplayOptions = {
    format,
    source,
    labels: s('labels'),
    unknownValues: s('unknown-values')
      ?.split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
    rate,
    max: num('max', s('max'), int(0), 'a non-negative integer'),
    to,
    batchSize: num('batch-size', s('batch-size'), int(1), 'a positive integer'),
    generator: {
      seed: num('seed', s('seed'), Number.isInteger, 'an integer'),
      users: num('users', s('users'), int(1), 'a positive integer'),
      days: num('days', s('days'), (n) => n > 0, 'a positive number'),
      startMs,
      botFraction: num('bot-fraction', s('bot-fraction'), fraction, 'between 0 and 1'),
      eventsPerUserPerDay: num('events-per-user-day', s('events-per-user-day'), (n) => n > 0, 'a positive number'),
      labelFraction: num('label-fraction', s('label-fraction'), fraction, 'between 0 and 1'),
    },
  };
  return { options, json: values.json === true, help: values.help === true };
}
