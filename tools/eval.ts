import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ClickHouseStore } from '@app/clickhouse';
import { Codecs, ModelUpdate, ProfileUpdated, Topics } from '@app/contracts';
import { DATASET_FORMATS, DatasetFormat, LabelRow, readDataset, readLabelsAuto, resolveSource } from '@app/datasets';
import { startPipeline, testNamespace, TopicReader } from '@app/testing';
import { AttributeScore, percentile, scoreAttribute, seededHoldout } from './eval/metrics';

/**
 * `npm run eval -- --source <path> --format <fmt> --labels <csv> [--holdout 0.3] [--seed 1] --out <file.json>`
 *
 * Profile-quality evaluation through the real pipeline (CONTRACTS.md): hides the labels of a
 * seeded random hold-out of the labelled users that have events, replays the dataset and the
 * remaining labels through Kafka, ClickHouse and the four services (started here in a namespace
 * of their own), then reads the predicted attributes of the hidden users from the lookup API and
 * scores them beside the majority-class baseline. Also reports the pipeline's events/s and the
 * freshness (profile published − newest event ingested) seen during the run.
 */
const ROOT = resolve(__dirname, '..', '..');

interface EvalOptions {
  source: string;
  format: DatasetFormat;
  labels: string;
  holdout: number;
  seed: number;
  out: string;
  unknownValues: string[];
  timeoutS: number;
  rate: string;
}

function parseOptions(argv: string[]): EvalOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      source: { type: 'string' },
      format: { type: 'string' },
      labels: { type: 'string' },
      holdout: { type: 'string', default: '0.3' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      'unknown-values': { type: 'string', default: '' },
      'timeout-s': { type: 'string', default: '900' },
      rate: { type: 'string', default: 'max' },
    },
  });
  const fail = (m: string): never => {
    console.error(`eval: ${m}\nusage: npm run eval -- --source <path> --format <${DATASET_FORMATS.join('|')}> --labels <csv> [--holdout 0.3] [--seed 1] --out <file.json>`);
    process.exit(2);
  };
  if (!values.source) fail('--source is required');
  if (!values.labels) fail('--labels is required');
  if (!values.out) fail('--out is required');
  const format = (values.format ?? 'canonical') as DatasetFormat;
  if (!DATASET_FORMATS.includes(format)) fail(`unknown --format ${values.format}`);
  const holdout = Number(values.holdout);
  if (!(holdout > 0 && holdout < 1)) fail('--holdout must be between 0 and 1');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) fail('--seed must be an integer');
  return {
    source: resolveSource(values.source!),
    format,
    labels: resolveSource(values.labels!),
    holdout,
    seed,
    out: resolve(values.out!),
    unknownValues: values['unknown-values'].split(',').filter((v) => v.length > 0),
    timeoutS: Number(values['timeout-s']),
    rate: values.rate,
  };
}

const SETTLE_MS = Number(process.env.EVAL_SETTLE_MS ?? 30000);
/** No new model version for this long: the trainer has learnt what the stream had to teach. */
const MODEL_QUIET_MS = Number(process.env.EVAL_MODEL_QUIET_MS ?? 15000);
const log = (m: string) => console.error(`[eval] ${m}`);

function runReplay(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'tools', 'replay.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`replay exited with ${code}`))));
  });
}

function labelsCsv(rows: readonly LabelRow[], attributes: readonly string[]): string {
  const cell = (v: string | null | undefined) => (v === null || v === undefined ? '' : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [['user_id', ...attributes].join(','), ...rows.map((r) => [cell(r.user_id), ...attributes.map((a) => cell(r.attributes[a]))].join(','))].join('\n') + '\n';
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();

  // 1. Who is in the data, and who is labelled.
  const activeUsers = new Set<string>();
  let events = 0;
  for await (const e of readDataset(opts.source, opts.format)) {
    events++;
    const u = e.event.user_id ?? e.event.anonymous_id;
    if (u) activeUsers.add(String(u));
  }
  if (events === 0) throw new Error(`no events read from ${opts.source} (${opts.format})`);
  const labelRows = await readLabelsAuto(opts.labels, { unknownValues: opts.unknownValues });
  const attributes = [...new Set(labelRows.flatMap((r) => Object.keys(r.attributes)))].sort();
  const labelled = labelRows.filter((r) => activeUsers.has(r.user_id) && Object.values(r.attributes).some((v) => v !== null));
  const holdout = seededHoldout(labelled.map((r) => r.user_id), opts.holdout, opts.seed);
  const train = labelled.filter((r) => !holdout.has(r.user_id));
  const hidden = labelled.filter((r) => holdout.has(r.user_id));
  log(`${events} events, ${activeUsers.size} users, ${labelled.length} labelled with events, ${hidden.length} held out; attributes: ${attributes.join(', ')}`);

  const tmp = mkdtempSync(join(tmpdir(), 'portrait-eval-'));
  const trainLabels = join(tmp, 'train-labels.csv');
  writeFileSync(trainLabels, labelsCsv(train, attributes));

  // 2. The pipeline, in a namespace of its own.
  const ns = testNamespace('eval');
  const pipeline = await startPipeline(ns, {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    TRAINER_ATTRIBUTES: attributes.join(','),
    // Offline evaluation of a finite dataset: candidate versions every few seconds (instead of
    // every minute) so the last version reflects the whole stream, and more replay of the
    // reservoir per fresh sample. Overridable from the environment.
    TRAINER_VERSION_EVERY_MS: process.env.TRAINER_VERSION_EVERY_MS ?? '5000',
    TRAINER_REPLAY_RATIO: process.env.TRAINER_REPLAY_RATIO ?? '4',
    ...(process.env.EVAL_TRAINER_BATCH_SIZE ? { TRAINER_BATCH_SIZE: process.env.EVAL_TRAINER_BATCH_SIZE } : {}),
  });
  const profiles = await new TopicReader(ns.brokers, `${ns.topicPrefix}${Topics.ProfileUpdated}`).start();
  const models = await new TopicReader(ns.brokers, `${ns.topicPrefix}${Topics.ModelUpdates}`).start();
  const store = new ClickHouseStore({ url: ns.clickhouseUrl, database: ns.database });
  try {
    // 3. Replay: the training labels, then the events (same env, so same namespace).
    const replayStarted = Date.now();
    await runReplay(['--source', opts.source, '--format', opts.format, '--labels', trainLabels, '--rate', opts.rate, '--to', 'kafka'], {
      KAFKA_BROKERS: ns.brokers.join(','),
      KAFKA_TOPIC_PREFIX: ns.topicPrefix,
    });
    log(`replayed in ${((Date.now() - replayStarted) / 1000).toFixed(1)} s; waiting for the pipeline to drain`);

    // 4. Drained: every group caught up, and the publisher has seen the newest model version.
    const deadline = started + opts.timeoutS * 1000;
    let drainedAt = 0;
    let stableSince = 0;
    let modelCount = 0;
    let lastModelAt = Date.now();
    for (;;) {
      if (Date.now() > deadline) throw new Error(`pipeline did not drain within ${opts.timeoutS} s: ${JSON.stringify(await pipeline.lag())}`);
      const lag = await pipeline.lag();
      const idle = Object.values(lag).every((l) => l === 0);
      if (idle && !drainedAt) drainedAt = Date.now();
      if (!idle) drainedAt = 0;
      if (models.messages.length !== modelCount) {
        modelCount = models.messages.length;
        lastModelAt = Date.now();
      }
      const latestModel = models.messages.length > 0 ? Codecs.ModelUpdate.decode(models.messages[models.messages.length - 1].value!).model_version : null;
      const scored = await predictionsOf(pipeline.ports['profile-publisher'], hidden.map((r) => r.user_id));
      const current =
        latestModel !== null &&
        Date.now() - lastModelAt > MODEL_QUIET_MS &&
        hidden.every((r) => !scored.has(r.user_id) || scored.get(r.user_id)?.model_version === latestModel);
      // Settled: caught up and every hidden user scored by the newest model — or caught up for a
      // while with nothing more coming (e.g. data too small for the trainer to publish a version).
      if (idle && (current || Date.now() - drainedAt > SETTLE_MS)) {
        stableSince ||= Date.now();
        if (Date.now() - stableSince > 3000) break;
      } else {
        stableSince = 0;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const pipelineSeconds = (drainedAt - replayStarted) / 1000;

    // 5. Score the hidden users' predicted attributes.
    const served = await predictionsOf(pipeline.ports['profile-publisher'], hidden.map((r) => r.user_id));
    const scores: Record<string, AttributeScore> = {};
    for (const a of attributes) {
      const rows = hidden.filter((r) => r.attributes[a] !== null && r.attributes[a] !== undefined);
      const truth = rows.map((r) => r.attributes[a]!);
      const pred = rows.map((r) => {
        const v = served.get(r.user_id)?.attributes[a];
        if (v?.source === 'known') throw new Error(`hidden label of ${r.user_id}.${a} leaked into the pipeline`);
        return v?.value ?? null;
      });
      const trainLabelsOf = train.map((r) => r.attributes[a]).filter((v): v is string => v !== null && v !== undefined);
      scores[a] = scoreAttribute(truth, pred, trainLabelsOf);
    }

    const fresh = profiles.messages
      .map((m) => Codecs.ProfileUpdated.decode(m.value!))
      // Freshness is about new behaviour reaching the profile; re-scores after a model update are not.
      .filter((p) => p.changed_fields.includes('features'))
      .map((p) => p.computed_at - (p.freshness.ingested ?? p.computed_at))
      .filter((x) => x >= 0);
    const storedEvents = await store.query<{ c: string }>('SELECT count() AS c FROM events FINAL');
    const servedVersion = served.size > 0 ? [...served.values()][0].model_version : null;
    const servedModel = models.messages.map((m) => Codecs.ModelUpdate.decode(m.value!)).find((u) => u.model_version === servedVersion) ?? null;
    const result = {
      dataset: `${opts.format}:${opts.source}`,
      events,
      users: activeUsers.size,
      labelled_users: labelled.length,
      holdout_users: hidden.length,
      seed: opts.seed,
      holdout: opts.holdout,
      model_version: served.size > 0 ? [...served.values()][0].model_version : null,
      attributes: Object.fromEntries(
        Object.entries(scores).map(([a, s]) => [
          a,
          { classes: s.classes, n: s.n, accuracy: s.accuracy, macro_f1: s.macro_f1, majority_accuracy: s.majority_accuracy, majority_macro_f1: s.majority_macro_f1, majority_class: s.majority_class, missing: s.missing },
        ]),
      ),
      // Diagnostics of the served version: its decision rule and the trainer's own prequential view.
      model: servedModel ? modelSummary(servedModel) : null,
      pipeline: {
        events_per_s: pipelineSeconds > 0 ? events / pipelineSeconds : null,
        events_stored: Number(storedEvents[0]?.c ?? 0),
        profiles_published: profiles.messages.length,
        freshness_p50_ms: percentile(fresh, 50),
        freshness_p99_ms: percentile(fresh, 99),
      },
      duration_s: (Date.now() - started) / 1000,
    };
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n');
    console.log(summary(result));
  } finally {
    await profiles.stop();
    await models.stop();
    await pipeline.stop();
    await store.command(`DROP DATABASE IF EXISTS ${ns.database}`).catch(() => undefined);
    await store.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** trained samples, and per attribute head: decision-rule offsets and the learner's prequential macro-F1 vs majority. */
function modelSummary(u: ModelUpdate) {
  let prequential: { head: string; n: number; macro_f1: number; majority_macro_f1: number }[] = [];
  try {
    prequential = (JSON.parse(u.metrics_json) as { learner?: typeof prequential }).learner ?? [];
  } catch {
    // metrics are diagnostics only
  }
  return {
    trained_samples: u.trained_samples,
    heads: Object.fromEntries(
      u.heads
        .filter((h) => h.kind === 'softmax')
        .map((h) => {
          const m = prequential.find((x) => x.head === h.name);
          return [h.name, { decision_bias: h.decision_bias, prequential: m ? { n: m.n, macro_f1: m.macro_f1, majority_macro_f1: m.majority_macro_f1 } : null }];
        }),
    ),
  };
}

async function predictionsOf(port: number, users: readonly string[]): Promise<Map<string, ProfileUpdated>> {
  const out = new Map<string, ProfileUpdated>();
  const key = (process.env.PORTRAIT_READ_KEYS ?? '').split(',')[0];
  for (const u of users) {
    const r = await fetch(`http://127.0.0.1:${port}/v1/profiles/${encodeURIComponent(u)}`, { headers: key ? { 'x-api-key': key } : {} });
    if (r.status === 200) out.set(u, (await r.json()) as ProfileUpdated);
  }
  return out;
}

function summary(r: {
  dataset: string;
  events: number;
  holdout_users: number;
  attributes: Record<string, { n: number; accuracy: number; macro_f1: number; majority_accuracy: number; majority_macro_f1: number; missing: number }>;
  pipeline: { events_per_s: number | null; freshness_p50_ms: number | null; freshness_p99_ms: number | null };
}): string {
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
  const rows = Object.entries(r.attributes).map(
    ([a, s]) => `| ${a} | ${s.n} | ${f(s.accuracy)} | ${f(s.macro_f1)} | ${f(s.majority_accuracy)} | ${f(s.majority_macro_f1)} | ${s.missing} |`,
  );
  return [
    `## Evaluation: ${r.dataset}`,
    '',
    `${r.events} events, ${r.holdout_users} held-out users.`,
    '',
    '| attribute | n | accuracy | macro-F1 | majority accuracy | majority macro-F1 | no prediction |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Pipeline: ${r.pipeline.events_per_s?.toFixed(0) ?? 'n/a'} events/s end to end; freshness p50 ${r.pipeline.freshness_p50_ms ?? 'n/a'} ms, p99 ${r.pipeline.freshness_p99_ms ?? 'n/a'} ms.`,
  ].join('\n');
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`eval failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
