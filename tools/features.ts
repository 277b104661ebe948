import { ClickHouseStore } from '@app/clickhouse';
import { aggregatorConfigSchema, loadConfig } from '@app/config';
import { featuresAsOf } from '@app/features';

const USAGE = 'usage: npm run features -- --user <user id> [--as-of <ISO-8601 time | epoch ms>]  (default: now)';

/** Parses `--as-of`: epoch milliseconds, or an ISO-8601 time with a zone. */
export function parseAsOf(text: string | undefined, now = Date.now()): number {
  if (text === undefined) return now;
  if (/^\d+$/.test(text)) return Number(text);
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new Error(`--as-of: not an ISO-8601 time or epoch ms: ${text}`);
  return t;
}

/**
 * `npm run features -- --user <id> --as-of <time>`: a user's point-in-time feature vector from
 * ClickHouse (the same definitions and code as the live aggregator), printed as JSON — the
 * `UserFeatures` the aggregator emits once it has seen every stored event up to that time.
 */
async function main() {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const user = opt('user');
  if (!user || args.includes('--help')) {
    console.error(USAGE);
    process.exit(user ? 0 : 2);
  }
  const config = loadConfig(aggregatorConfigSchema);
  const asOf = parseAsOf(opt('as-of'));
  const store = new ClickHouseStore({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
  });
  try {
    const f = await featuresAsOf(store, user, asOf, { halfLifeMs: config.AGGREGATOR_SCORE_HALF_LIFE_MS, topN: config.AGGREGATOR_TOP_N });
    if (!f) {
      console.error(`no events of user ${JSON.stringify(user)} at or before ${new Date(asOf).toISOString()}`);
      process.exit(1);
    }
    console.log(JSON.stringify(f, null, 2));
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
