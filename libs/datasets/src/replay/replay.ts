import * as fs from 'node:fs';
import * as path from 'node:path';
import { baseConfigSchema, loadConfig } from '@app/config';
import { clickEventKey, Codecs, ContractEncodeError } from '@app/contracts';
import { KafkaBus } from '@app/kafka';
import { createLogger } from '@app/observability';
import type { Logger } from 'pino';
import type { LabelRow } from '../canonical-event';
import { DEFAULT_GENERATOR_DAYS, DEFAULT_GENERATOR_START_MS, expectedEventCount, generateEvents, generateLabels } from '../generator';
import { DatasetFormat, ImportedEvent, ImportIssue, listDatasetFiles, readDataset, resolveSource } from '../importers';
import { readLabelsAuto, toUserAttributes } from '../labels';
import { generatePersonas } from '../personas';
import { toClickEventInput } from './click-event-conversion';
import { EventSink, HttpEventSink, KafkaEventSink, OutgoingEvent, publishUserAttributes } from './sinks';
import { TokenBucket } from './token-bucket';

export const REPLAY_FORMATS = ['canonical', 'jdata', 'taobao', 'generator'] as const;
export type ReplayFormat = (typeof REPLAY_FORMATS)[number];

export interface GeneratorReplayOptions {
  seed?: number;
  users?: number;
  days?: number;
  startMs?: number;
  botFraction?: number;
  eventsPerUserPerDay?: number;
  /** Fraction of (human) users whose persona attributes are published as labels (default 0.3). */
  labelFraction?: number;
}

export interface ReplayProgress {
  events: number;
  errors: number;
  /** Expected total when known (generator estimate, line count, --max). */
  total: number | null;
  elapsedMs: number;
  eventsPerSec: number;
}

export interface ReplayOptions {
  format: ReplayFormat;
  /** File or folder (absolute, relative, or relative to DATASETS_DIR). Not used by the generator. */
  source?: string;
  /** Labels CSV (JData_User.csv is recognised and mapped to age/sex/user_lv_cd). */
  labels?: string;
  /** Extra tokens meaning "unknown" in the labels file. */
  unknownValues?: string[];
  /** Events per second; undefined = as fast as possible. */
  rate?: number;
  /** Stop after this many events. */
  max?: number;
  to?: 'kafka' | 'http';
  generator?: GeneratorReplayOptions;
  /** Environment for Kafka settings (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX), INGESTOR_URL, PORTRAIT_INGEST_KEY. */
  env?: NodeJS.ProcessEnv;
  /** Events per Kafka send / HTTP request (default 2000 / 500). */
  batchSize?: number;
  onProgress?: (p: ReplayProgress) => void;
  /** Rows the importers could not read and events that cannot be encoded. */
  onIssue?: (issue: ImportIssue) => void;
  onNote?: (message: string) => void;
  progressIntervalMs?: number;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface ReplaySummary {
  format: ReplayFormat;
  dataset: string;
  to: 'kafka' | 'http';
  /** Events handed over to Kafka/the ingestor. */
  events: number;
  /** Rows skipped locally (malformed or not encodable). */
  errors: number;
  /** The first few local errors as `file:line: reason`. */
  errorSamples: string[];
  /** HTTP only: what the ingestor reported. */
  duplicates: number;
  rejected: number;
  rejectSamples: string[];
  labels: number;
  labelErrors: number;
  firstEventTs: number | null;
  lastEventTs: number | null;
  durationMs: number;
  eventsPerSec: number;
  aborted: boolean;
  notes: string[];
}

export class ReplayArgumentError extends Error {
  override readonly name = 'ReplayArgumentError';
}

const SAMPLE_LIMIT = 20;

/** Counts newline-terminated lines quickly (for the progress bar's total). */
async function countLines(files: string[]): Promise<number> {
  let n = 0;
  for (const f of files) {
    for await (const chunk of fs.createReadStream(f)) {
      const buf = chunk as Buffer;
      let i = -1;
      while ((i = buf.indexOf(10, i + 1)) >= 0) n++;
    }
  }
  return n;
}

/**
 * Publishes a dataset (or the built-in generator's stream) into the pipeline, in event-time
 * order: raw ClickEvents on clickstream.raw.v1 (`to: 'kafka'`) or NDJSON POSTs to the ingestor
 * (`to: 'http'`); labels go to user.attributes.v1 first. Event ids are deterministic, so a
 * second run changes nothing downstream (the ingestor deduplicates). Resolves with a summary;
 * throws ReplayArgumentError for bad options and other errors when Kafka/the ingestor fail.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const env = options.env ?? process.env;
  // kafkajs is chatty at warn (idempotent-producer notices, leader moves right after topic creation).
  const logger = options.logger ?? createLogger('replay', env.REPLAY_LOG_LEVEL ?? 'error');
  const to = options.to ?? 'kafka';
  const started = performance.now();
  const notes: string[] = [];
  const note = (m: string) => {
    notes.push(m);
    options.onNote?.(m);
  };
  if (!(REPLAY_FORMATS as readonly string[]).includes(options.format)) {
    throw new ReplayArgumentError(`unknown format ${JSON.stringify(options.format)} (one of ${REPLAY_FORMATS.join(', ')})`);
  }
  if (options.rate !== undefined && !(options.rate > 0)) throw new ReplayArgumentError('rate must be a positive number of events/s');
  if (options.max !== undefined && !(Number.isInteger(options.max) && options.max >= 0)) throw new ReplayArgumentError('max must be a non-negative integer');
  const gen = options.generator ?? {};
  const isGenerator = options.format === 'generator';
  let source = '';
  let files: string[] = [];
  if (!isGenerator) {
    if (!options.source) throw new ReplayArgumentError(`--source is required for --format ${options.format}`);
    try {
      source = resolveSource(options.source);
      files = await listDatasetFiles(source, options.format as DatasetFormat);
    } catch (e) {
      throw new ReplayArgumentError((e as Error).message);
    }
  }
  const dataset = isGenerator ? `generator(seed=${gen.seed ?? 1})` : path.basename(source);
  const labelsPath = options.labels ? path.resolve(options.labels) : undefined;
  if (labelsPath && !fs.existsSync(labelsPath)) throw new ReplayArgumentError(`labels file not found: ${options.labels}`);

  const cfg = loadConfig(baseConfigSchema, env);
  let bus: KafkaBus | null = null;
  const kafkaBus = () =>
    (bus ??= new KafkaBus({
      brokers: cfg.KAFKA_BROKERS,
      clientId: cfg.KAFKA_CLIENT_ID ?? 'portrait-replay',
      topicPrefix: cfg.KAFKA_TOPIC_PREFIX,
      groupPrefix: cfg.KAFKA_GROUP_PREFIX,
      logger,
    }));

  const errorSamples: string[] = [];
  let errors = 0;
  const issue = (i: ImportIssue) => {
    errors++;
    if (errorSamples.length < SAMPLE_LIMIT) errorSamples.push(`${i.file}:${i.line}: ${i.reason}`);
    options.onIssue?.(i);
  };

  const summary: ReplaySummary = {
    format: options.format,
    dataset,
    to,
    events: 0,
    errors: 0,
    errorSamples,
    duplicates: 0,
    rejected: 0,
    rejectSamples: [],
    labels: 0,
    labelErrors: 0,
    firstEventTs: null,
    lastEventTs: null,
    durationMs: 0,
    eventsPerSec: 0,
    aborted: false,
    notes,
  };

  try {
    // ---- labels first, so the trainer knows them when the events arrive ----
    let labelRows: LabelRow[] = [];
    let labelSource = '';
    let observedAt = 0;
    if (labelsPath) {
      let labelErrors = 0;
      labelRows = await readLabelsAuto(labelsPath, {
        unknownValues: options.unknownValues,
        onIssue: (i) => {
          labelErrors++;
          if (errorSamples.length < SAMPLE_LIMIT) errorSamples.push(`${i.file}:${i.line}: ${i.reason}`);
        },
      });
      summary.labelErrors = labelErrors;
      labelSource = `labels:${path.basename(labelsPath)}`;
      // The file's mtime: stable between runs, so a second replay publishes identical messages.
      observedAt = Math.floor(fs.statSync(labelsPath).mtimeMs);
    } else if (isGenerator && (gen.labelFraction ?? 0.3) > 0) {
      labelRows = generateLabels(generatePersonas({ seed: gen.seed ?? 1, users: gen.users ?? 1000, botFraction: gen.botFraction }), {
        fraction: gen.labelFraction ?? 0.3,
        seed: gen.seed ?? 1,
      });
      labelSource = 'generator';
      observedAt = gen.startMs ?? DEFAULT_GENERATOR_START_MS;
    }
    if (labelRows.length > 0) {
      const labelSet = isGenerator ? 'generator' : options.format;
      await publishUserAttributes(kafkaBus(), toUserAttributes(labelRows, { source: labelSource, observedAt, labelSet }));
      summary.labels = labelRows.length;
    }

    // ---- events ----
    const sink: EventSink = to === 'kafka' ? await KafkaEventSink.open(kafkaBus()) : new HttpEventSink({
      url: env.INGESTOR_URL ?? 'http://127.0.0.1:3001',
      apiKey: env.PORTRAIT_INGEST_KEY ?? env.PORTRAIT_INGEST_KEYS?.split(',')[0]?.trim(),
      logger,
      signal: options.signal,
      onWait: note,
    });
    try {
      let total: number | null = isGenerator
        ? expectedEventCount({ seed: gen.seed ?? 1, users: gen.users ?? 1000, days: gen.days, eventsPerUserPerDay: gen.eventsPerUserPerDay })
        : await countLines(files);
      if (options.max !== undefined) total = total === null ? options.max : Math.min(total, options.max);

      const batchSize = Math.max(1, options.batchSize ?? (to === 'kafka' ? 2000 : 500));
      const rate = options.rate;
      const effectiveBatch = rate ? Math.max(1, Math.min(batchSize, Math.round(rate / 20))) : batchSize;
      const bucket = rate ? new TokenBucket(rate, Math.max(effectiveBatch, rate / 10)) : null;
      const sourceTag = isGenerator ? 'replay:generator' : `replay:${options.format}`;
      const backfill = !isGenerator;

      const stream: AsyncIterable<ImportedEvent> | Iterable<ImportedEvent> = isGenerator
        ? (function* () {
            let line = 0;
            for (const event of generateEvents({
              seed: gen.seed ?? 1,
              users: gen.users ?? 1000,
              days: gen.days ?? DEFAULT_GENERATOR_DAYS,
              startMs: gen.startMs,
              botFraction: gen.botFraction,
              eventsPerUserPerDay: gen.eventsPerUserPerDay,
            })) {
              yield { event, ts: event.ts as number, file: 'generator', line: ++line };
            }
          })()
        : readDataset(source, options.format as DatasetFormat, { onIssue: issue, onNote: note });

      let batch: OutgoingEvent[] = [];
      const pending: { send: Promise<void> | null } = { send: null };
      let lastProgress = 0;
      const progressEvery = options.progressIntervalMs ?? 250;
      const report = () => {
        const elapsed = performance.now() - started;
        options.onProgress?.({
          events: summary.events,
          errors,
          total,
          elapsedMs: elapsed,
          eventsPerSec: elapsed > 0 ? (summary.events * 1000) / elapsed : 0,
        });
      };
      const flush = async () => {
        if (batch.length === 0) return;
        const out = batch;
        batch = [];
        if (bucket) await bucket.take(out.length);
        // One send in flight while the next batch is encoded: overlap without reordering.
        if (pending.send) await pending.send;
        pending.send = sink.send(out).then((r) => {
          summary.events += r.sent;
          summary.duplicates += r.duplicates;
          summary.rejected += r.rejected;
          for (const s of r.rejectSamples) if (summary.rejectSamples.length < SAMPLE_LIMIT) summary.rejectSamples.push(s);
          const now = performance.now();
          if (now - lastProgress >= progressEvery) {
            lastProgress = now;
            report();
          }
        });
        // Surface a failure at the next await instead of as an unhandled rejection.
        pending.send.catch(() => undefined);
      };

      let taken = 0;
      for await (const rec of stream) {
        if (options.signal?.aborted) {
          summary.aborted = true;
          break;
        }
        if (options.max !== undefined && taken >= options.max) break;
        const json = rec.event;
        if (json.source === undefined) json.source = sourceTag;
        let avro: Buffer | null = null;
        const conv = toClickEventInput(json, rec.ts, { source: sourceTag, backfill });
        if (!conv.ok) {
          issue({ file: rec.file, line: rec.line, reason: `not encodable: ${conv.reason}` });
          continue;
        }
        if (sink.needsAvro) {
          try {
            avro = Codecs.ClickEvent.encode(conv.value);
          } catch (e) {
            const reason = e instanceof ContractEncodeError ? e.message : String(e);
            issue({ file: rec.file, line: rec.line, reason: `not encodable: ${reason}` });
            continue;
          }
        } else if (backfill && json.backfill === undefined) {
          json.backfill = true;
        }
        taken++;
        if (summary.firstEventTs === null) summary.firstEventTs = rec.ts;
        summary.lastEventTs = rec.ts;
        batch.push({ json, key: clickEventKey(conv.value), avro });
        if (batch.length >= effectiveBatch) await flush();
      }
      await flush();
      if (pending.send) await pending.send;
      summary.errors = errors;
      report();
    } finally {
      await sink.close();
    }
  } finally {
    if (bus !== null) await (bus as KafkaBus).disconnect();
  }
  summary.errors = errors;
  summary.durationMs = performance.now() - started;
  summary.eventsPerSec = summary.durationMs > 0 ? (summary.events * 1000) / summary.durationMs : 0;
  return summary;
}
