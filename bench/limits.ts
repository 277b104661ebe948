import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { generateEvents } from '@app/datasets';
import { measureEventSize, workloadOptions } from './workload';

/**
 * The machine's limit, measured in the same run as the pipeline: Apache Kafka's own perf tools
 * (from the same jars as the broker) at the size of our Avro events on a fresh 6-partition topic,
 * and ClickHouse's own insert rate (`clickhouse-client` loading a TSV file into a table shaped
 * like our `events` table, in a temporary database dropped afterwards).
 */
export interface KafkaLimit {
  topic_partitions: number;
  record_bytes: number;
  records: number;
  produce_records_per_s: number;
  produce_mb_per_s: number;
  produce_avg_latency_ms: number;
  consume_records_per_s: number;
  consume_mb_per_s: number;
  /** Records/s of producing then consuming the same records on this machine: 1 / (1/produce + 1/consume). */
  produce_consume_records_per_s: number;
}

export interface ClickHouseLimit {
  rows: number;
  file_bytes: number;
  seconds: number;
  rows_per_s: number;
  mb_per_s: number;
}

export interface LimitsResult {
  event_size: { mean_bytes: number; median_bytes: number; sample: number };
  kafka: KafkaLimit;
  clickhouse: ClickHouseLimit;
}

export interface LimitsOptions {
  kafkaRecords: number;
  clickhouseRows: number;
  brokers: string[];
  root: string;
  seed: number;
}

const ROOT = join(__dirname, '..', '..');

function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 300_000, env: opts.env ?? process.env },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${err.message}\n${stderr.slice(-2000)}`));
        else resolve(stdout + stderr);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Last summary line of ProducerPerformance: "N records sent, R records/sec (M MB/sec), L ms avg latency, ...". */
export function parseProducerPerf(out: string): { records: number; records_per_s: number; mb_per_s: number; avg_latency_ms: number } {
  const re = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(out); m; m = re.exec(out)) last = m;
  if (!last) throw new Error(`no summary in producer-perf output:\n${out.slice(-1500)}`);
  return { records: Number(last[1]), records_per_s: Number(last[2]), mb_per_s: Number(last[3]), avg_latency_ms: Number(last[4]) };
}

/**
 * ConsumerPerformance prints a CSV header and one row. The fetch.* columns exclude the group's
 * join/rebalance time, which would otherwise dominate short runs; we take those when present.
 */
export function parseConsumerPerf(out: string): { records: number; records_per_s: number; mb_per_s: number } {
  const lines = out.split('\n').map((l) => l.trim());
  const hi = lines.findIndex((l) => l.startsWith('start.time'));
  if (hi < 0) throw new Error(`no header in consumer-perf output:\n${out.slice(-1500)}`);
  const header = lines[hi].split(',').map((s) => s.trim());
  const row = lines.slice(hi + 1).find((l) => /^\d{4}-\d\d-\d\d/.test(l));
  if (!row) throw new Error(`no result row in consumer-perf output:\n${out.slice(-1500)}`);
  const cells = row.split(',').map((s) => s.trim());
  const col = (name: string) => {
    const i = header.indexOf(name);
    return i >= 0 ? Number(cells[i]) : NaN;
  };
  const fetchRate = col('fetch.nMsg.sec');
  const fetchMb = col('fetch.MB.sec');
  return {
    records: col('data.consumed.in.nMsg'),
    records_per_s: Number.isFinite(fetchRate) && fetchRate > 0 ? fetchRate : col('nMsg.sec'),
    mb_per_s: Number.isFinite(fetchMb) && fetchMb > 0 ? fetchMb : col('MB.sec'),
  };
}

export async function measureKafka(opts: LimitsOptions, recordBytes: number): Promise<KafkaLimit> {
  const topic = `bench-limits-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const kafka = new Kafka({ clientId: 'bench-limits', brokers: opts.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    const kt = join(ROOT, 'scripts', 'kafka-tool.sh');
    const env = { ...process.env, KAFKA_BROKERS: opts.brokers.join(',') };
    const pout = await run(
      'bash',
      [kt, 'producer-perf', '--topic', topic, '--num-records', String(opts.kafkaRecords), '--record-size', String(recordBytes), '--throughput', '-1',
        '--producer-props', 'acks=all', 'linger.ms=5', 'batch.size=65536'],
      { env },
    );
    const p = parseProducerPerf(pout);
    const cout = await run('bash', [kt, 'consumer-perf', '--topic', topic, '--messages', String(opts.kafkaRecords), '--timeout', '60000'], { env });
    const c = parseConsumerPerf(cout);
    return {
      topic_partitions: 6,
      record_bytes: recordBytes,
      records: p.records,
      produce_records_per_s: p.records_per_s,
      produce_mb_per_s: p.mb_per_s,
      produce_avg_latency_ms: p.avg_latency_ms,
      consume_records_per_s: c.records_per_s,
      consume_mb_per_s: c.mb_per_s,
      produce_consume_records_per_s: 1 / (1 / p.records_per_s + 1 / c.records_per_s),
    };
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

function chClient(args: string[], input?: string): Promise<string> {
  const host = process.env.CLICKHOUSE_HOST ?? '127.0.0.1';
  const port = process.env.CLICKHOUSE_TCP_PORT ?? '9000';
  return run('clickhouse-client', ['--host', host, '--port', port, ...args], { input });
}

function tsvEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}

function dateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** One TSV cell for a column, from a generated event where the column names an event field, else a default of its type. */
export function tsvCell(name: string, type: string, e: Record<string, unknown>, i: number): string {
  const v = name === 'user_key' ? e.user_id : name === 'ts_ms' ? Number(e.ts) % 1000 : name === 'ingested_at' ? e.ts : e[name];
  const nullable = type.startsWith('Nullable(');
  const base = type.replace(/^Nullable\((.*)\)$/, '$1').replace(/^LowCardinality\((.*)\)$/, '$1');
  if (v === undefined || v === null) {
    if (nullable) return '\\N';
    if (base.startsWith('Array(')) return '[]';
    if (base === 'DateTime') return dateTime(Number(e.ts));
    if (base === 'Date') return dateTime(Number(e.ts)).slice(0, 10);
    if (/^U?Int|^Float|^Decimal/.test(base)) return name === 'kafka_offset' ? String(i) : name === 'quantity' || name === 'ver' ? '1' : '0';
    return '';
  }
  if (base === 'DateTime') return dateTime(Number(v));
  if (base === 'Date') return dateTime(Number(v)).slice(0, 10);
  if (/^U?Int/.test(base)) return String(Math.max(0, Math.round(Number(v))));
  if (base.startsWith('Array(')) return '[]';
  return tsvEscape(typeof v === 'string' ? v : JSON.stringify(v));
}

export async function measureClickHouse(opts: LimitsOptions): Promise<ClickHouseLimit> {
  const db = `bench_limits_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const dir = join(opts.root, 'reports', 'tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${db}.tsv`);
  await chClient(['--query', `CREATE DATABASE ${db}`]);
  try {
    const ddl = readFileSync(join(ROOT, 'migrations', 'clickhouse', '0001_events.up.sql'), 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('--'))
      .join('\n');
    await chClient(['--database', db, '--query', ddl]);
    const desc = await chClient(['--database', db, '--query', 'DESCRIBE TABLE events FORMAT TabSeparated']);
    const cols = desc
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t'))
      .filter((c) => c[2] !== 'DEFAULT' && c[2] !== 'MATERIALIZED' && c[2] !== 'ALIAS')
      .map((c) => ({ name: c[0], type: c[1] }));
    // The TSV file: generated events in the table's shape, written once before the clock starts.
    const out = createWriteStream(file);
    let rows = 0;
    let chunk: string[] = [];
    for (const e of generateEvents(workloadOptions(opts.seed, Math.max(100, Math.ceil(opts.clickhouseRows / 60)), 3))) {
      chunk.push(cols.map((c) => tsvCell(c.name, c.type, e as unknown as Record<string, unknown>, rows)).join('\t'));
      if (++rows >= opts.clickhouseRows) break;
      if (chunk.length >= 5000) {
        if (!out.write(chunk.join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
        chunk = [];
      }
    }
    out.write(chunk.length ? chunk.join('\n') + '\n' : '');
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const bytes = statSync(file).size;
    const host = process.env.CLICKHOUSE_HOST ?? '127.0.0.1';
    const port = process.env.CLICKHOUSE_TCP_PORT ?? '9000';
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        'bash',
        ['-c', `exec clickhouse-client --host ${host} --port ${port} --database ${db} --query "INSERT INTO events (${cols.map((c) => c.name).join(',')}) FORMAT TabSeparated" < "${file}"`],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`clickhouse-client insert failed (${code}): ${err.slice(-1500)}`))));
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const counted = Number((await chClient(['--database', db, '--query', 'SELECT count() FROM events'])).trim());
    if (counted !== rows) throw new Error(`clickhouse insert: ${counted} rows in the table, ${rows} in the file`);
    return { rows, file_bytes: bytes, seconds, rows_per_s: rows / seconds, mb_per_s: bytes / 1e6 / seconds };
  } finally {
    rmSync(file, { force: true });
    await chClient(['--query', `DROP DATABASE IF EXISTS ${db}`]).catch(() => undefined);
  }
}

export async function measureLimits(opts: LimitsOptions): Promise<LimitsResult> {
  const size = measureEventSize(opts.seed);
  const kafka = await measureKafka(opts, size.mean_bytes);
  const clickhouse = await measureClickHouse(opts);
  return { event_size: size, kafka, clickhouse };
}

export function limitsSizes(mode: 'smoke' | 'quick' | 'full'): { kafkaRecords: number; clickhouseRows: number } {
  if (mode === 'smoke') return { kafkaRecords: 20_000, clickhouseRows: 20_000 };
  if (mode === 'quick') return { kafkaRecords: 100_000, clickhouseRows: 200_000 };
  return { kafkaRecords: 1_000_000, clickhouseRows: 1_000_000 };
}

async function main() {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  });
  const mode = values.smoke ? 'smoke' : values.quick || process.env.BENCH_QUICK === '1' ? 'quick' : 'full';
  const result = await measureLimits({
    ...limitsSizes(mode),
    brokers: (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    root: ROOT,
    seed: Number(values.seed),
  });
  const json = JSON.stringify(result, null, 2);
  if (values.out) {
    mkdirSync(join(values.out, '..'), { recursive: true });
    createWriteStream(values.out).end(json + '\n');
  }
  console.log(json);
}

// Run directly (node dist/bench/limits.js) or through scripts/run.js, which require()s the file.
if (require.main === module || process.argv[1] === __filename) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
