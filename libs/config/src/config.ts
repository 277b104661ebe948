import { z, ZodError, ZodTypeAny } from 'zod';

/**
 * Configuration is read once at start-up from the environment, validated with zod, and frozen.
 * A bad value fails fast with a message that names the variable; values are never printed, so a
 * secret cannot leak through a config error.
 */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const csv = z
  .string()
  .optional()
  .transform((s) =>
    (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x.length > 0),
  );

/** Integer from an env string, with bounds. */
export const envInt = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
export const envNumber = (def: number, min = -Infinity, max = Infinity) =>
  z.coerce.number().min(min).max(max).default(def);
export const envBool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');
export const envList = csv;

/** Settings every service shares: where Kafka and ClickHouse are, logging, topic naming. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  KAFKA_BROKERS: csv.refine((l) => l.length > 0, 'at least one broker').or(z.array(z.string())).default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().optional(),
  /** Prepended to every topic name (lets tests and tenants share a cluster). Empty in production. */
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, ".", "_", "-"').default(''),
  /** Prepended to every consumer group id. */
  KAFKA_GROUP_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/).default(''),
  CLICKHOUSE_URL: z.string().url().default('http://127.0.0.1:8123'),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a plain identifier').default('portrait'),
  HTTP_HOST: z.string().default('127.0.0.1'),
});
export type BaseConfig = z.infer<typeof baseConfigSchema>;

type Env = Record<string, string | undefined>;

/** Parses `env` (default: process.env) with `schema`; throws ConfigError naming each bad variable. */
export function loadConfig<S extends ZodTypeAny>(schema: S, env: Env = process.env): Readonly<z.infer<S>> {
  // Treat empty strings as unset so `FOO= npm start` falls back to the default.
  const cleaned: Env = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  try {
    return Object.freeze(schema.parse(cleaned));
  } catch (e) {
    if (e instanceof ZodError) {
      throw new ConfigError(e.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
    }
    throw e;
  }
}
